"""A service may import only what it declares: its own dependency closure, nothing that merely
happens to be installed next to it (dev tools, other services' packages).

    python -m ticketing_devkit.packaging_check DISTRIBUTION PACKAGE_DIR

prints what the package imports undeclared (its extras count as declared), one a line, and exits
1 if anything; run where every package is installed (the workspace virtualenv, `make sync`).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_closure(distribution: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Every distribution `distribution` needs at run time (extras followed, dev groups not)."""
    names: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    pending: list[tuple[str, frozenset[str]]] = [(distribution, extras)]
    while pending:
        name, extras = pending.pop()
        if (_normalize(name), extras) in visited:
            continue
        visited.add((_normalize(name), extras))
        names.add(_normalize(name))
        for raw in metadata.requires(name) or []:
            requirement = Requirement(raw)
            marker = requirement.marker
            wanted = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if wanted:
                pending.append((requirement.name, frozenset(requirement.extras)))
    return names


def imported_modules(package_dir: Path) -> set[str]:
    modules: set[str] = set()
    for path in package_dir.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def undeclared_imports(
    distribution: str, package_dir: Path, extras: frozenset[str] = frozenset()
) -> set[str]:
    """Modules the package imports that its declared dependencies do not provide."""
    closure = dependency_closure(distribution, extras)
    providers = metadata.packages_distributions()
    undeclared = set()
    for module in imported_modules(package_dir):
        if module in sys.stdlib_module_names or module == package_dir.name:
            continue
        # Editable workspace members are missing from packages_distributions(); their module
        # name is their distribution name (ticketing_common <-> ticketing-common).
        candidates = [*providers.get(module, []), module]
        if not any(_normalize(dist) in closure for dist in candidates):
            undeclared.add(module)
    return undeclared


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketing_devkit.packaging_check")
    parser.add_argument("distribution")
    parser.add_argument("package_dir", type=Path)
    args = parser.parse_args(argv)
    extras = frozenset(metadata.metadata(args.distribution).get_all("Provides-Extra") or [])
    undeclared = undeclared_imports(args.distribution, args.package_dir, extras)
    for module in sorted(undeclared):
        print(module)
    sys.exit(1 if undeclared else 0)


if __name__ == "__main__":
    main()
