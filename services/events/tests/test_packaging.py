from pathlib import Path

import ticketing_events
from ticketing_devkit.packaging_check import undeclared_imports


def test_events_imports_only_what_it_declares() -> None:
    assert undeclared_imports("ticketing-events", Path(ticketing_events.__file__).parent) == set()
