"""The topology the services declare is the whole truth about them: what a service's settings
read of its peers is declared, and a new service is a folder, its one compose block (its setup
jobs run in its container; `make compose-check` derives its local build) and a task definition —
proven by adding one to a temporary copy of the repository and running the checks there."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ticketing_common import topology
from ticketing_devkit.stack import ROOT, discover, service_env

SPECS = discover()


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_peer_a_service_reads_an_address_of_is_declared(spec: topology.Service) -> None:
    prefixes = {s.env_prefix.lower(): s.name for s in SPECS}
    read = set()
    for settings in (ROOT / "services" / spec.name / "src").glob("*/settings.py"):
        for field in re.findall(r"^\s+(\w+)_url: ", settings.read_text(), re.M):
            if field in prefixes:
                read.add(prefixes[field])
    declared = set(spec.peers + spec.late_peers)
    assert read <= declared, f"{spec.name} reads the URL of undeclared {read - declared}"


def test_a_service_the_others_verify_tokens_with_is_everyones_peer() -> None:
    (issuer,) = [spec for spec in SPECS if spec.jwks]
    for spec in SPECS:
        if spec is not issuer:
            assert issuer.name in spec.peers, (
                f"{spec.name} verifies tokens: it waits for {issuer.name}"
            )


# The throwaway service: what a newcomer writes, and nothing else.
PYPROJECT = """\
[project]
name = "ticketing-reviews"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["ticketing-common[postgres,redis]"]

[tool.ticketing]
app = "ticketing_reviews.main:create_app"
dev-port = 8011
routes = ["/api/v1/reviews"]
database = "reviews"
redis = true
peers = ["auth", "events"]
setup = ["migrate"]
tasks = { min = 2, max = 4 }
"""
COMPOSE_BLOCKS = """
  reviews:
    <<: *service
    image: ticketing/reviews:dev
    build:
      <<: *build
      args: {SERVICE: reviews}
    environment:
      <<: *env
      JWKS_URL: http://auth:8000/api/v1/auth/jwks
      DATABASE_URL: postgresql+asyncpg://postgres@postgres:5432/ticketing_reviews
    ports:
      - "127.0.0.1:8011:8000"
    depends_on:
      postgres: *healthy
      redis: *healthy
      auth: *healthy
      events: *healthy
"""
# The checks that would catch a service wired halfway: compose, make dev's stack, the task
# definitions (botocore's model), the Dockerfile's view of the services.
CHECKS = [
    "libs/devkit/tests/test_compose.py",
    "libs/devkit/tests/test_compose_check.py",
    "libs/devkit/tests/test_stack.py",
    "libs/devkit/tests/test_topology.py::test_every_peer_a_service_reads_an_address_of_is_declared",
    "infra/tests/test_task_definitions.py",
]


def _copy_of_the_repository(destination: Path) -> Path:
    tracked = (
        subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "libs",
                "services",
                "infra",
                "task-definitions",
                "docker",
                "docker-compose.yml",
                ".env.example",
                ".dockerignore",
                "Dockerfile",
                "README.md",
                "frontend/Dockerfile",
                "Makefile",
                "pyproject.toml",
                "uv.lock",
            ],
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():  # (a file deleted but not yet committed is skipped)
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _add_the_service(root: Path) -> None:
    folder = root / "services" / "reviews"
    (folder / "src" / "ticketing_reviews").mkdir(parents=True)
    (folder / "src" / "ticketing_reviews" / "__init__.py").write_text("")
    (folder / "pyproject.toml").write_text(PYPROJECT)
    compose = root / "docker-compose.yml"
    text = compose.read_text()
    marker = "  # --- one-off jobs"
    compose.write_text(text.replace(marker, COMPOSE_BLOCKS.lstrip("\n") + "\n" + marker, 1))
    # Its task definition: events' with its names, and events' address (a peer it calls).
    text = (root / "task-definitions" / "events.json").read_text()
    text = text.replace("ticketing-events", "ticketing-reviews")
    text = text.replace('"events"', '"reviews"').replace("ticketing/events/", "ticketing/reviews/")
    task = json.loads(text)
    task["containerDefinitions"][0]["environment"].append(
        {"name": "EVENTS_URL", "value": "http://events.ticketing.local:8000"}
    )
    (root / "task-definitions" / "reviews.json").write_text(json.dumps(task, indent=2))


def _run_checks(root: Path) -> subprocess.CompletedProcess[str]:
    source = [
        root / "libs" / "common" / "src",
        root / "libs" / "devkit" / "src",
        root / "infra" / "src",
    ]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *CHECKS],
        cwd=root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, source))},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_new_service_is_a_folder_a_compose_block_and_a_task_definition(tmp_path: Path) -> None:
    root = _copy_of_the_repository(tmp_path / "repo")
    _add_the_service(root)

    reviews = next(s for s in topology.discover(root) if s.name == "reviews")
    specs = topology.discover(root)
    # make dev runs it: after its peers, with its database, its peers' addresses, and the gateway
    # routes its prefix to it.
    waves = [[s.name for s in wave] for wave in topology.start_order(specs)]
    at = next(i for i, wave in enumerate(waves) if "reviews" in wave)
    assert all(any(p in wave for wave in waves[:at]) for p in ("auth", "events"))
    env = service_env(reviews, specs, {})
    assert env["DATABASE_URL"].endswith("/ticketing_reviews")
    assert env["JWKS_URL"].endswith("/api/v1/auth/jwks")
    assert "EVENTS_URL" in env
    (edge,) = [s for s in specs if s.edge]
    routes = json.loads(service_env(edge, specs, {})["GATEWAY_ROUTES"])
    assert routes["/api/v1/reviews"] == reviews.dev_url
    assert "reviews" in edge.calls

    result = _run_checks(root)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout

    # The checks see it: without its compose block they fail, naming it.
    compose = root / "docker-compose.yml"
    compose.write_text(compose.read_text().replace(COMPOSE_BLOCKS.lstrip("\n"), ""))
    result = _run_checks(root)
    assert result.returncode != 0
    assert "reviews" in result.stdout


# Run in the workspace virtualenv, where every service is installed: each service's settings
# with ENVIRONMENT=prod and nothing else set, and what it refuses to start without.
_REFUSED = """
import importlib, inspect, json, sys
from pydantic import ValidationError
from ticketing_common.settings import ServiceSettings
refused = {}
for name, package in json.loads(sys.argv[1]).items():
    module = importlib.import_module(package + ".settings")
    own = [
        cls for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings) and cls.__module__ == module.__name__
        and cls.model_fields["service_name"].default == name
    ]
    settings = min(own, key=lambda cls: len(cls.__mro__))  # the service's, not a job's subclass
    try:
        settings(_env_file=None)
        refused[name] = ""
    except ValidationError as error:
        refused[name] = str(error)
print(json.dumps(refused))
"""


def test_production_refuses_to_start_without_each_secret_its_task_definition_names() -> None:
    subprocess.run(["make", "-C", str(ROOT), "sync"], check=True, timeout=600)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_URL", "_KEY", "_KEYS", "_SECRET", "_TOKEN"))
    }
    env |= {"ENVIRONMENT": "prod", "JWKS_URL": "http://auth.ticketing.local:8000/jwks"}
    ran = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-c",
            _REFUSED,
            json.dumps({s.name: s.package for s in SPECS}),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    refused = json.loads(ran.stdout.strip().splitlines()[-1])
    for spec in SPECS:
        task = json.loads((ROOT / "task-definitions" / f"{spec.name}.json").read_text())
        secrets = {s["name"] for s in task["containerDefinitions"][0].get("secrets", [])}
        # OPENSEARCH_URL is optional by design: search runs on PostgreSQL full-text without it.
        required = secrets - {"OPENSEARCH_URL"}
        message = refused[spec.name]
        assert "must be set in production" in message, spec.name
        named = set(re.findall(r"\b[A-Z][A-Z_]+[A-Z]\b", message.split("must be set")[0]))
        assert required <= named, f"{spec.name} starts in production without {required - named}"


_ANONYMOUS = """
import json
from ticketing_api_gateway.public_routes import anonymous_operations
from ticketing_devkit.public_api import merged_document
from ticketing_devkit.stack import discover
routed = [prefix for spec in discover() for prefix in spec.routes]
print(json.dumps(anonymous_operations(merged_document(), routed)))
"""


def test_the_routes_the_services_declare_anonymous_are_the_ones_the_edge_opens() -> None:
    """The gateway opens without a token what each service's OpenAPI document declares
    anonymous (ticketing_api_gateway.public_routes): here that reading, of the services' real
    documents. A route is anonymous where its service says so (an `OptionalUser`, or no user),
    the two routes that authenticate otherwise included (scanners fetch the ticket key; Stripe
    signs its webhook), and the rest needs a token."""
    subprocess.run(["make", "-C", str(ROOT), "sync"], check=True, timeout=600)
    ran = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", _ANONYMOUS],
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    anonymous = {tuple(route) for route in json.loads(ran.stdout.strip().splitlines()[-1])}
    for route in [
        ("POST", "/api/v1/auth/login"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/events/{event_id}/seatmap"),
        ("GET", "/api/v1/search/events"),
        ("GET", "/api/v1/bookings/tickets/public-key"),
        ("POST", "/api/v1/payments/webhooks/stripe"),
    ]:
        assert route in anonymous, route
    for route in [
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/events"),
        ("GET", "/api/v1/bookings"),
        ("POST", "/api/v1/bookings"),
        ("POST", "/api/v1/inventory/events/{event_id}/holds"),
    ]:
        assert route not in anonymous, route
