from pathlib import Path

import ticketing_booking
from ticketing_devkit.packaging_check import undeclared_imports


def test_booking_imports_only_what_it_declares() -> None:
    assert undeclared_imports("ticketing-booking", Path(ticketing_booking.__file__).parent) == set()
