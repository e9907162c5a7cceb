from pathlib import Path

import ticketing_auth
from ticketing_devkit.packaging_check import undeclared_imports


def test_auth_imports_only_what_it_declares() -> None:
    assert undeclared_imports("ticketing-auth", Path(ticketing_auth.__file__).parent) == set()
