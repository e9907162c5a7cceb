from pathlib import Path

import ticketing_inventory
from ticketing_devkit.packaging_check import undeclared_imports


def test_inventory_imports_only_what_it_declares() -> None:
    assert (
        undeclared_imports("ticketing-inventory", Path(ticketing_inventory.__file__).parent)
        == set()
    )
