from pathlib import Path

import ticketing_api_gateway
from ticketing_devkit.packaging_check import undeclared_imports


def test_gateway_imports_only_what_it_declares() -> None:
    assert (
        undeclared_imports("ticketing-api-gateway", Path(ticketing_api_gateway.__file__).parent)
        == set()
    )
