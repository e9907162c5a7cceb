from pathlib import Path

import ticketing_common
from ticketing_devkit.packaging_check import undeclared_imports


def test_every_import_is_declared_with_its_extra() -> None:
    package = Path(ticketing_common.__file__).parent
    extras = frozenset({"postgres", "redis", "dynamodb", "tracing", "client"})
    assert undeclared_imports("ticketing-common", package, extras) == set()


def test_the_check_catches_an_undeclared_import(tmp_path: Path) -> None:
    package = tmp_path / "ticketing_common"
    package.mkdir()
    (package / "leak.py").write_text("import sqlalchemy\nimport pytest\nimport json\n")
    # Without the postgres extra, sqlalchemy is not declared; pytest never is.
    assert undeclared_imports("ticketing-common", package) == {"sqlalchemy", "pytest"}
