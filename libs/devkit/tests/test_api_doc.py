"""docs/api.md is the public contract: every path it names is in the gateway's merged OpenAPI
document (with that method), and every public path there is named in it.

The document is built the way the gateway builds it under `make dev` (ticketing_devkit.public_api),
in the workspace virtualenv where every service is installed (`make sync`, as `make dev` does).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from ticketing_devkit.stack import ROOT

API_DOC = ROOT / "docs" / "api.md"
SYNC_TIMEOUT_S = 600
# Served by the gateway but not in the document they are.
NOT_IN_OPENAPI = {("GET", "/openapi.json"), ("GET", "/docs")}
HEADING = re.compile(r"^##+ (?P<title>.*)$")
PREFIX = re.compile(r"`(/api/v1/[a-z-]+)`")
ROW = re.compile(r"^\| (?P<method>GET|POST|PUT|PATCH|DELETE) (?P<paths>/[^|]*?) \|")


def documented(text: str) -> set[tuple[str, str]]:
    """(method, path) of every table row, under its section's prefix: one prefix is prepended
    as it is, several (`/api/v1/venues`, `/api/v1/events`) by their common parent."""
    found: set[tuple[str, str]] = set()
    base = ""
    for line in text.splitlines():
        if heading := HEADING.match(line):
            prefixes = PREFIX.findall(heading["title"])
            if line.startswith("## "):
                base = (
                    prefixes[0]
                    if len(prefixes) == 1
                    else prefixes[0].rsplit("/", 1)[0]
                    if prefixes
                    else ""
                )
            continue
        if row := ROW.match(line):
            for path in row["paths"].split(","):
                path = path.strip()
                full = (base + path).rstrip("/") if path != "/" else base
                found.add((row["method"], full or "/"))
    return found


def test_rows_are_read_under_their_section_prefix() -> None:
    text = (
        "## Auth — `/api/v1/auth`\n| POST /login | — | x |\n"
        "## Things — `/api/v1/venues`, `/api/v1/events`\n| GET /events/{id} | — | x |\n"
        "### Sub\n| POST / | any | x |\n"
        "## Gateway\n| GET /status, /docs | — | x |\n"
    )
    assert documented(text) == {
        ("POST", "/api/v1/auth/login"),
        ("GET", "/api/v1/events/{id}"),
        ("POST", "/api/v1"),
        ("GET", "/status"),
        ("GET", "/docs"),
    }


@pytest.fixture(scope="module")
def openapi_paths(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    subprocess.run(["make", "-C", str(ROOT), "sync"], check=True, timeout=SYNC_TIMEOUT_S)
    out = tmp_path_factory.mktemp("openapi") / "paths.json"
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "ticketing_devkit.public_api", str(out)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    paths: dict[str, list[str]] = json.loads(out.read_text())["paths"]
    return {(method, path) for path, methods in paths.items() for method in methods}


def test_every_path_the_contract_names_is_in_the_gateways_openapi(
    openapi_paths: set[tuple[str, str]],
) -> None:
    missing = documented(API_DOC.read_text()) - openapi_paths - NOT_IN_OPENAPI
    assert not missing, f"docs/api.md names what the API does not serve: {sorted(missing)}"


def test_every_public_path_is_in_the_contract(openapi_paths: set[tuple[str, str]]) -> None:
    undocumented = openapi_paths - documented(API_DOC.read_text())
    assert not undocumented, f"docs/api.md does not name: {sorted(undocumented)}"
    assert not [path for _, path in openapi_paths if path.startswith("/internal")]
