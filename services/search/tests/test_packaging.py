from pathlib import Path

import ticketing_search
from ticketing_devkit.packaging_check import undeclared_imports


def test_search_imports_only_what_it_declares() -> None:
    assert undeclared_imports("ticketing-search", Path(ticketing_search.__file__).parent) == set()
