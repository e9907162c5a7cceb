from pathlib import Path

import ticketing_payment
from ticketing_devkit.packaging_check import undeclared_imports


def test_payment_imports_only_what_it_declares() -> None:
    assert undeclared_imports("ticketing-payment", Path(ticketing_payment.__file__).parent) == set()
