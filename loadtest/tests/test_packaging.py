from pathlib import Path

import ticketing_loadtest
from ticketing_devkit.packaging_check import undeclared_imports


def test_loadtest_imports_only_what_it_declares() -> None:
    assert (
        undeclared_imports("ticketing-loadtest", Path(ticketing_loadtest.__file__).parent) == set()
    )
