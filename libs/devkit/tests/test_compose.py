"""docker-compose.yml, checked where no Docker engine runs: valid against the Compose
Specification, every service healthy-checked or a one-off job, every build a real Dockerfile, and
the wiring (routes, databases, secrets, jobs) agreeing with the services' own declarations."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_devkit.stack import DEMO_ACCOUNTS, ROOT, ServiceSpec, discover

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SPECS = discover()


def read_env_file(path: Path) -> dict[str, str]:
    """The subset of compose's .env syntax the committed file uses: KEY=value, 'literal',
    "with \\n escapes", # comments."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, raw = line.partition("=")
        if raw[:1] == "'" and raw.endswith("'"):
            value = raw[1:-1]
        elif raw[:1] == '"' and raw.endswith('"'):
            value = raw[1:-1].replace("\\n", "\n").replace('\\"', '"')
        else:
            value = raw.split(" #", 1)[0].strip()
        values[key.strip()] = value
    return values


ENV_EXAMPLE = read_env_file(ROOT / ".env.example")


def is_job(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no" and "command" in service


def environment(name: str) -> dict[str, str]:
    """What a container of this service is given: its environment and its env files."""
    service = SERVICES[name]
    env = {key: str(value) for key, value in (service.get("environment") or {}).items()}
    for entry in service.get("env_file", []):
        path = entry["path"] if isinstance(entry, dict) else entry
        if path == ".env.example":
            env = ENV_EXAMPLE | env  # the file's values, unless the service sets its own
    return env


def depended_on(condition: str) -> set[str]:
    return {
        target
        for service in SERVICES.values()
        for target, rule in (service.get("depends_on") or {}).items()
        if rule.get("condition") == condition
    }


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads((ROOT / "docker" / "compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert errors == []


def test_every_service_has_a_health_check_or_is_a_one_off_job() -> None:
    waited_for_healthy = depended_on("service_healthy")
    for name, service in SERVICES.items():
        check = service.get("healthcheck", {})
        if is_job(service):
            continue
        if check.get("disable"):
            # Only an optional extra that nothing waits for may go without one (the X-Ray daemon).
            assert service.get("profiles"), f"{name} has no health check"
            assert name not in waited_for_healthy, name
            continue
        test = check.get("test")
        assert test, f"{name} has no health check"
        assert test[0] in ("CMD", "CMD-SHELL"), name


def test_jobs_run_once_and_each_is_waited_for() -> None:
    jobs = {name for name, service in SERVICES.items() if is_job(service)}
    # Only the demo data is a job of its own: setup jobs run in their service's container.
    assert jobs == {_job_running(spec, command) for spec in SPECS for command in spec.demo_data}
    # Every job is waited for: `docker compose up --wait` counts a stopped container that nothing
    # waits for with service_completed_successfully as a failure (docker/compose#10596).
    assert depended_on("service_completed_successfully") == jobs
    assert SERVICES["api-gateway"]["depends_on"]["events-seed"] == {
        "condition": "service_completed_successfully"
    }, "the gateway opens once the demo data is there"


def test_no_feature_newer_than_the_readme_minimum_engine() -> None:
    # healthcheck.start_interval needs Docker Engine 25; Debian 12's docker.io is 20.10.
    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for value in node.values() for k in keys(value)}
        if isinstance(node, list):
            return {k for value in node for k in keys(value)}
        return set()

    assert "start_interval" not in keys(COMPOSE)
    readme = (ROOT / "README.md").read_text()
    assert "Docker Engine 20.10" in readme
    assert "Compose 2.24" in readme


def test_every_dependency_names_a_service_and_a_condition_it_can_meet() -> None:
    for name, service in SERVICES.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert not SERVICES[target].get("healthcheck", {}).get("disable"), (name, target)
                assert not is_job(SERVICES[target]), (name, target)
            else:
                assert condition == "service_completed_successfully", (name, target)
                assert is_job(SERVICES[target]), (name, target)


def test_the_start_order_has_no_cycle() -> None:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        assert name not in visiting, f"{name} waits for itself"
        visiting.add(name)
        for target in SERVICES[name].get("depends_on") or {}:
            visit(target)
        visiting.discard(name)
        order.append(name)

    for name in SERVICES:
        visit(name)
    assert order.index("postgres") < order.index("auth")
    # The gateway opens once the demo data is in, so after everything the seed calls.
    assert order.index("api-gateway") > order.index("events-seed")


def test_every_service_folder_is_built_once_from_the_one_dockerfile() -> None:
    builds = {name: service["build"] for name, service in SERVICES.items() if "build" in service}
    # One build per image, by its service; the web app's image has its own Dockerfile.
    assert set(builds) == {spec.name for spec in SPECS} | {"web"}
    assert builds["web"] == {"context": ".", "dockerfile": "frontend/Dockerfile"}
    for spec in SPECS:
        service = SERVICES[spec.name]
        build = service["build"]
        assert (ROOT / build["context"]).resolve() == ROOT, "builds from the repository root"
        assert build["dockerfile"] == "Dockerfile"
        assert build["args"] == {"SERVICE": spec.name}
        assert service["image"] == f"ticketing/{spec.name}:dev"
        assert service["ports"][0] == f"127.0.0.1:{spec.dev_port}:8000", "same port as make dev"
    # Jobs run the image their service builds (compose does not pull an image a service builds).
    built = {SERVICES[name]["image"] for name in builds}
    for name, service in SERVICES.items():
        if service.get("image", "").startswith("ticketing/"):
            assert service["image"] in built, name


def _job_running(spec: ServiceSpec, command: str) -> str:
    found = [
        name
        for name, service in SERVICES.items()
        if is_job(service)
        and service["image"] == f"ticketing/{spec.name}:dev"
        and service["command"] == ["python", "-m", spec.package, command]
    ]
    assert len(found) == 1, f"no single job runs `{spec.package} {command}`: {found}"
    return found[0]


SETUP_THEN_SERVE = ["sh", "-c", "setup && exec serve"]


def test_each_service_runs_its_setup_jobs_in_its_own_container_before_it_serves() -> None:
    """The image's `setup` runs the service's declared setup jobs (tests/test_dockerfiles.py);
    every service's container runs it, then serves, so no service needs a job block."""
    for spec in SPECS:
        command = SERVICES[spec.name]["command"]
        if spec.edge:  # its own command (the route table); it declares no setup job
            assert spec.setup == (), spec.name
            assert command[-1].endswith("exec serve")
            continue
        assert command == SETUP_THEN_SERVE, spec.name
        for job in spec.setup:
            assert not any(
                is_job(service) and service["command"][-1:] == [job]
                for name, service in SERVICES.items()
                if service.get("image") == f"ticketing/{spec.name}:dev"
            ), f"{spec.name}'s `{job}` runs in its container, not as a job"


@pytest.mark.parametrize("setup", ["exit 0", "exit 3"])
def test_a_service_serves_only_once_its_setup_jobs_succeeded(tmp_path: Path, setup: str) -> None:
    (tmp_path / "setup").write_text(f"#!/bin/sh\necho setup\n{setup}\n")
    (tmp_path / "serve").write_text("#!/bin/sh\necho serving\n")
    for script in ("setup", "serve"):
        (tmp_path / script).chmod(0o755)
    ran = subprocess.run(
        SETUP_THEN_SERVE,
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
    )
    if setup == "exit 0":
        assert (ran.returncode, ran.stdout) == (0, "setup\nserving\n")
    else:  # the container exits; compose restarts it (and its setup) until it succeeds
        assert (ran.returncode, ran.stdout) == (3, "setup\n")


def test_demo_data_is_seeded_once_the_services_it_calls_are_healthy() -> None:
    for spec in SPECS:
        for command in spec.demo_data:
            job = _job_running(spec, command)
            waits = SERVICES[job]["depends_on"]
            assert {"auth", spec.name} <= set(waits), waits
            assert environment(job)["ADMIN_PASSWORD"]


def test_the_demo_accounts_are_the_ones_make_dev_has() -> None:
    # Two ways to run one stack: the admin that compose's seed promotes the organizer with is the
    # README's (and `make dev`'s); the seed creates the other two the same way under both.
    for name in ("auth", "events-seed"):
        env = environment(name)
        assert (env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"]) == DEMO_ACCOUNTS["admin"], name
    readme = (ROOT / "README.md").read_text()
    for email, password in DEMO_ACCOUNTS.values():
        assert f"| {email} | {password} |" in readme


def test_the_gateway_routes_every_public_prefix_to_its_service(tmp_path: Path) -> None:
    # Its command builds GATEWAY_ROUTES from the pyprojects it mounts, then starts the image's
    # `serve`: run here with the repository where the mount would be and a `serve` that prints.
    gateway = SERVICES["api-gateway"]
    assert "./services:/ticketing/services:ro" in gateway["volumes"]
    assert "GATEWAY_ROUTES" not in environment("api-gateway")
    shell, flag, script = gateway["command"]
    assert (shell, flag) == ("sh", "-c")
    (tmp_path / "serve").write_text('#!/bin/sh\nprintf "%s" "$GATEWAY_ROUTES"\n')
    (tmp_path / "serve").chmod(0o755)
    (tmp_path / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (tmp_path / "python").chmod(0o755)
    ran = subprocess.run(
        ["sh", "-c", script.replace("$$", "$").replace("/ticketing ", f"{ROOT} ")],
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
    )
    expected = {route: f"http://{spec.name}:8000" for spec in SPECS for route in spec.routes}
    assert json.loads(ran.stdout) == expected
    assert "/api/v1/auth" in expected
    assert environment("api-gateway")["TRUSTED_PROXY_HOPS"] == "0"
    assert SERVICES["api-gateway"]["ports"] == ["127.0.0.1:8000:8000"]


def test_each_service_starts_after_the_stores_and_peers_it_declares() -> None:
    by_name = {spec.name: spec for spec in SPECS}
    for spec in SPECS:
        service = SERVICES[spec.name]
        healthy = {
            t
            for t, rule in service["depends_on"].items()
            if rule == {"condition": "service_healthy"}
        }
        assert set(spec.peers) <= healthy, f"{spec.name} does not wait for its peers"
        assert ("redis" in healthy) == spec.redis, spec.name
        # (Not the converse: in compose, search's backend is OpenSearch, not its database.)
        assert "postgres" not in healthy or spec.database, spec.name
        assert ("dynamodb" in healthy) == bool(spec.dynamodb_tables), spec.name
        env = environment(spec.name)
        for peer in spec.peers + spec.late_peers:  # (the edge routes to the rest by its table)
            assert env[f"{by_name[peer].env_prefix}_URL"] == f"http://{peer}:8000", spec.name
            if by_name[peer].jwks:
                assert env["JWKS_URL"] == f"http://{peer}:8000{by_name[peer].jwks}", spec.name
        if spec.dynamodb_tables:
            assert env["DYNAMODB_TABLE"] == spec.dynamodb_tables[0]


def test_each_service_gets_the_secrets_and_peers_its_task_definition_names() -> None:
    for spec in SPECS:
        task = json.loads((ROOT / "task-definitions" / f"{spec.name}.json").read_text())
        container = task["containerDefinitions"][0]
        needed = {secret["name"] for secret in container.get("secrets", [])}
        needed |= {var["name"] for var in container["environment"] if var["name"].endswith("_URL")}
        missing = needed - set(environment(spec.name))
        assert missing == set(), f"{spec.name} misses {sorted(missing)}"
        # Inside a container 127.0.0.1 is the container itself: peers and stores are reached by
        # their compose names. (SITE_URL is where emails link to: the user's browser.)
        for name, value in environment(spec.name).items():
            if name.endswith("_URL") and name != "SITE_URL" and value:
                assert "127.0.0.1" not in value, (spec.name, name)
                assert "localhost" not in value, (spec.name, name)


def test_every_database_the_services_declare_is_created_and_used(tmp_path: Path) -> None:
    created = tmp_path / "created"
    stub = tmp_path / "psql"
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {created}\n')
    stub.chmod(0o755)
    subprocess.run(
        ["sh", str(ROOT / "docker" / "postgres" / "create-databases.sh")],
        env={
            **os.environ,
            "PATH": f"{tmp_path}:{os.environ['PATH']}",
            "TICKETING_SERVICES": str(ROOT / "services"),
        },
        check=True,
        capture_output=True,
    )
    names = set(re.findall(r'CREATE DATABASE "([a-z0-9_]+)"', created.read_text()))
    expected = {f"ticketing_{spec.database}" for spec in SPECS if spec.database}
    assert names == expected
    for spec in SPECS:
        if spec.database:
            url = environment(spec.name)["DATABASE_URL"]
            assert url == f"postgresql+asyncpg://postgres@postgres:5432/ticketing_{spec.database}"
    mounts = SERVICES["postgres"]["volumes"]
    assert any(
        m.startswith("./docker/postgres/create-databases.sh:/docker-entrypoint-initdb.d/")
        for m in mounts
    )
    assert "./services:/ticketing/services:ro" in mounts


def test_the_init_script_refuses_a_folder_without_databases(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(ROOT / "docker" / "postgres" / "create-databases.sh")],
        env={**os.environ, "TICKETING_SERVICES": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "no service declares a database" in result.stderr


def _ed25519(pem: str) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


def test_the_committed_dev_secrets_are_usable_and_only_dev() -> None:
    signing = json.loads(ENV_EXAMPLE["SIGNING_KEYS"])
    _ed25519(signing[0]["private_key"])
    _ed25519(ENV_EXAMPLE["TICKET_SIGNING_KEY"])
    _ed25519(ENV_EXAMPLE["WAITING_ROOM_SIGNING_KEY"])
    assert ENV_EXAMPLE["POSTGRES_PASSWORD"] == ENV_EXAMPLE["PGPASSWORD"]
    assert ENV_EXAMPLE["STRIPE_SECRET_KEY"] == ""  # the local payment simulator, never Stripe
    assert environment("payment")["PAYMENT_PROVIDER"] == "local"
    for name, service in SERVICES.items():
        if "build" in service:  # the platform's own containers run as dev, never as prod
            assert environment(name)["ENVIRONMENT"] == "dev", name


@pytest.mark.parametrize("ignored", [".git", ".venv", ".venvs", ".dev", ".env"])
def test_the_build_context_leaves_out_local_state(ignored: str) -> None:
    patterns = (ROOT / ".dockerignore").read_text().split()
    assert ignored in patterns
