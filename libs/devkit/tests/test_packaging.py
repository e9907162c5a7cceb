"""Every service of the topology, the shared library and the load test import only what they
declare (ticketing_devkit.packaging_check): checked in the workspace virtualenv, where every
package is installed (`make sync`, as `make dev` does), so a new service is checked as it is
added."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ticketing_devkit.packaging_check import undeclared_imports
from ticketing_devkit.stack import ROOT, discover

# (distribution, package folder); a library's extras count as declared.
PACKAGES = [
    *((s.distribution, ROOT / "services" / s.name / "src" / s.package) for s in discover()),
    ("ticketing-common", ROOT / "libs" / "common" / "src" / "ticketing_common"),
    ("ticketing-loadtest", ROOT / "loadtest" / "src" / "ticketing_loadtest"),
]
SYNC_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def workspace_python() -> Path:
    subprocess.run(["make", "-C", str(ROOT), "sync"], check=True, timeout=SYNC_TIMEOUT_S)
    return ROOT / ".venv" / "bin" / "python"


@pytest.mark.parametrize(("distribution", "package"), PACKAGES, ids=[d for d, _ in PACKAGES])
def test_a_package_imports_only_what_it_declares(
    workspace_python: Path, distribution: str, package: Path
) -> None:
    check = subprocess.run(
        [str(workspace_python), "-m", "ticketing_devkit.packaging_check", distribution, package],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, f"{distribution} imports undeclared: {check.stdout}{check.stderr}"


def test_the_check_catches_an_undeclared_import(tmp_path: Path) -> None:
    package = tmp_path / "ticketing_common"
    package.mkdir()
    (package / "leak.py").write_text("import sqlalchemy\nimport pytest\nimport json\n")
    # Without the postgres extra, sqlalchemy is not declared; pytest never is.
    assert undeclared_imports("ticketing-common", package) == {"sqlalchemy", "pytest"}
