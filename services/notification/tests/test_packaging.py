from pathlib import Path

import ticketing_notification


def test_the_templates_ship_inside_the_package() -> None:
    templates = Path(ticketing_notification.__file__).parent / "templates"
    kinds = ["booking.confirmed", "booking.cancelled", "booking.refunded", "booking.failed"]
    for kind in kinds:
        assert (templates / f"{kind}.html").is_file()
        assert (templates / f"{kind}.txt").is_file()
