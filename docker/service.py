"""What the Dockerfile needs to know about the service it builds (`--build-arg SERVICE=<folder
under services/>`), read from the workspace's own files, so that one Dockerfile builds them all.

    python3 service.py package SERVICE    its distribution name, from uv.lock alone (the layer of
                                          third-party dependencies is keyed on that file only)
    python3 service.py members SERVICE DIR   copies into DIR what installing it needs of the
                                          workspace: the lock, the root manifest, this script and
                                          the members it is made of (its folder, the libraries it
                                          uses), so a change to another service changes nothing
                                          the image is built from
    python3 service.py launcher SERVICE   the shell script that serves its app (the `app` of its
                                          [tool.ticketing] table) with uvicorn: the image's CMD
    python3 service.py setup SERVICE      the shell script that runs its setup jobs (the `setup`
                                          of its [tool.ticketing] table, `python -m <package>
                                          <job>` each, in order): compose runs it before `serve`

Run from the workspace root. Standard library only (the base image has nothing else): 3.11+.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

# How every service is served: uvloop and httptools (both in uvicorn[standard]), the latter with
# a header-read timeout (ticketing_common.server); uvicorn reads the rest (UVICORN_HOST,
# UVICORN_PORT, FORWARDED_ALLOW_IPS) from the image's environment.
UVICORN = (
    "uvicorn --factory {app} --loop uvloop --http ticketing_common.server:HttpToolsProtocol"
    " --no-access-log"
)


class UnknownService(Exception):
    pass


def _workspace(root: Path) -> dict[str, dict[str, Any]]:
    """The lock's entries of workspace members, by name."""
    lock = tomllib.loads((root / "uv.lock").read_text())
    return {
        entry["name"]: entry for entry in lock["package"] if "editable" in entry.get("source", {})
    }


def package(root: Path, service: str) -> str:
    names = [
        name
        for name, entry in _workspace(root).items()
        if entry["source"]["editable"] == f"services/{service}"
    ]
    if len(names) != 1:
        raise UnknownService(f"no workspace member in services/{service} (uv.lock): {names}")
    return names[0]


def member_paths(root: Path, service: str) -> list[str]:
    """The folders of the workspace members the service is made of, itself first."""
    workspace = _workspace(root)
    found: list[str] = []
    pending = [package(root, service)]
    while pending:
        entry = workspace[pending.pop(0)]
        if entry["source"]["editable"] in found:
            continue
        found.append(entry["source"]["editable"])
        needs = [*entry.get("dependencies", [])]
        for extra in entry.get("optional-dependencies", {}).values():
            needs += extra
        pending += [need["name"] for need in needs if need["name"] in workspace]
    return found


def members(root: Path, service: str, destination: str) -> str:
    target = Path(destination)
    for name in ("uv.lock", "pyproject.toml", "docker/service.py"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    paths = member_paths(root, service)
    for path in paths:
        shutil.copytree(root / path, target / path, symlinks=True)
    return " ".join(paths)


def _declaration(root: Path, service: str) -> dict[str, Any]:
    manifest = root / "services" / service / "pyproject.toml"
    if not manifest.is_file():
        raise UnknownService(f"services/{service}/pyproject.toml is missing")
    table: dict[str, Any] = tomllib.loads(manifest.read_text()).get("tool", {}).get("ticketing", {})
    return table


def launcher(root: Path, service: str) -> str:
    app = _declaration(root, service).get("app")
    if not app:
        raise UnknownService(f"services/{service}: no `app` in its [tool.ticketing] table")
    return (
        "#!/bin/sh\n"
        f"# services/{service}: its [tool.ticketing] app, written when the image was built.\n"
        f'exec {UVICORN.format(app=app)} "$@"\n'
    )


def setup(root: Path, service: str) -> str:
    jobs = _declaration(root, service).get("setup", [])
    module = "ticketing_" + service.replace("-", "_")  # every package's name (topology.py)
    return (
        "#!/bin/sh\n"
        f"# services/{service}: its [tool.ticketing] setup jobs, written when the image was built\n"
        "set -e\n" + "".join(f"python -m {module} {job}\n" for job in jobs)
    )


def main(argv: list[str]) -> int:
    arity = {"package": 2, "launcher": 2, "setup": 2, "members": 3}
    if not argv or arity.get(argv[0]) != len(argv) or not all(argv[1:]):
        print(
            "usage: service.py package|launcher|setup SERVICE, service.py members SERVICE DIR "
            "(build with --build-arg SERVICE=<a folder under services/>)",
            file=sys.stderr,
        )
        return 2
    root = Path.cwd()
    try:
        if argv[0] == "package":
            print(package(root, argv[1]))
        elif argv[0] == "launcher":
            print(launcher(root, argv[1]), end="")
        elif argv[0] == "setup":
            print(setup(root, argv[1]), end="")
        else:
            print(f"members of {argv[1]}: {members(root, argv[1], argv[2])}")
    except UnknownService as exc:
        print(f"service.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
