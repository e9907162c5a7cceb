"""`make compose-check`'s own rules, checked where no Docker engine runs: its override file
replaces only the images no registry gives this machine, keeps everything else of
docker-compose.yml as it is, and the engine it starts has exactly the flags this machine allows.
The check itself (`docker compose up` + `make smoke`) takes minutes: it is not part of every run."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import jsonschema
import yaml
from ticketing_devkit.processes import free_port
from ticketing_devkit.stack import ROOT

LOCAL = ROOT / "docker" / "local"
CHECK = (ROOT / "docker" / "compose-check.sh").read_text()


class ComposeLoader(yaml.SafeLoader):
    """YAML as compose reads it: `!override` / `!reset` replace a value instead of merging."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


ComposeLoader.add_multi_constructor("!", _tagged)

BASE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
OVERRIDE: dict[str, Any] = yaml.load((LOCAL / "compose.yml").read_text(), ComposeLoader)  # noqa: S506 - a SafeLoader
OVERRIDE_TEXT = (LOCAL / "compose.yml").read_text()


def platform(name: str) -> bool:
    """A service or job of the platform's own images (those the first file builds)."""
    return str(BASE["services"][name].get("image", "")).startswith("ticketing/")


def test_the_override_is_valid_against_the_compose_specification() -> None:
    schema = json.loads((ROOT / "docker" / "compose-spec.json").read_text())
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(OVERRIDE)
    ]
    assert errors == []
    assert set(OVERRIDE["services"]) <= set(BASE["services"]), "it adds no service"


def test_only_images_no_registry_gives_are_replaced_by_local_builds() -> None:
    started = {
        name
        for name, service in BASE["services"].items()
        if not service.get("profiles") and not platform(name) and "image" in service
    }
    replaced = {name for name, service in OVERRIDE["services"].items() if "image" in service}
    disabled = {name for name, service in OVERRIDE["services"].items() if "profiles" in service}
    assert replaced | disabled == started
    assert disabled == {"opensearch"}, "only OpenSearch has no package to build a stand-in from"
    for name in replaced:
        service = OVERRIDE["services"][name]
        assert service["image"].startswith("ticketing-local/"), "never the real image's name"
        build = service["build"]
        dockerfile = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), name
        assert "FROM ${BASE_IMAGE}" in dockerfile.read_text(), "built from the local base"
        assert build["network"] == "host"
        # What compose relies on stays the first file's: health checks, ports, volumes, commands,
        # environment, users.
        assert set(service) == {"image", "build"}, name


def test_the_platform_builds_change_only_where_their_base_images_come_from() -> None:
    """compose-check.sh derives them from docker-compose.yml (as `docker compose config` reads
    it): every image the first file builds from the root Dockerfile, FROM the local base and uv
    images on the host's network. So a new service needs no line in docker/local/compose.yml."""
    assert "docker compose -f docker-compose.yml config --format json" in CHECK
    assert "python3 docker/local/platform_builds.py" in CHECK
    assert 'COMPOSE+=(-f "$logs/platform-builds.json")' in CHECK
    generated = subprocess.run(
        [sys.executable, str(LOCAL / "platform_builds.py")],
        input=json.dumps(BASE),
        capture_output=True,
        text=True,
        check=True,
    )
    derived = json.loads(generated.stdout)
    schema = json.loads((ROOT / "docker" / "compose-spec.json").read_text())
    assert list(jsonschema.Draft7Validator(schema).iter_errors(derived)) == []
    platform_builds = {
        name
        for name, service in BASE["services"].items()
        if service.get("build", {}).get("dockerfile") == "Dockerfile"
    }
    assert set(derived["services"]) == platform_builds
    assert platform_builds >= {"api-gateway", "auth", "booking"}
    for service in derived["services"].values():
        assert service == {
            "build": {
                "network": "host",
                "args": {
                    "BASE_IMAGE": "${BASE_IMAGE:?the local base image (docker/base/build-base.sh)}",
                    "UV_IMAGE": "${UV_IMAGE:?the local uv image (docker/base/build-uv.sh)}",
                },
            }
        }
    # The override itself builds only the stand-ins and the web app.
    for name, service in OVERRIDE["services"].items():
        if name in platform_builds:
            assert "build" not in service, name
    builds = {name for name, service in BASE["services"].items() if "build" in service}
    assert builds - platform_builds == {"web"}
    assert "build" in OVERRIDE["services"]["web"]


def test_the_web_app_builds_from_its_dockerfile_on_node_and_nginx_made_here() -> None:
    assert OVERRIDE["services"]["web"] == {
        "build": {
            "network": "host",
            "args": {
                "NODE_IMAGE": "ticketing-local/node:22",
                "WEB_IMAGE": "ticketing-local/nginx:1.22",
            },
        }
    }
    web_dockerfile = (ROOT / "frontend" / "Dockerfile").read_text()
    assert "ARG NODE_IMAGE=" in web_dockerfile
    assert "ARG WEB_IMAGE=" in web_dockerfile
    assert not re.search(r"^#\s*syntax\s*=", web_dockerfile, re.M | re.I)
    bases: dict[str, Any] = yaml.safe_load((LOCAL / "base-images.yml").read_text())
    made = {service["image"]: service["build"] for service in bases["services"].values()}
    assert set(made) == {"ticketing-local/node:22", "ticketing-local/nginx:1.22"}
    for build in made.values():
        dockerfile = LOCAL / build["context"] / "Dockerfile"
        assert "FROM ${BASE_IMAGE}" in dockerfile.read_text()
        assert build["network"] == "host"
    assert "docker/local/base-images.yml build" in CHECK
    # The nginx stand-in renders the templates as the nginx image does (the web app's config.json).
    entrypoint = (LOCAL / "nginx" / "docker-entrypoint.sh").read_text()
    assert "/etc/nginx/templates/*.template" in entrypoint
    assert "wget" in (LOCAL / "nginx" / "Dockerfile").read_text()


def test_search_runs_on_its_postgresql_backend_in_the_check_and_says_so() -> None:
    service = OVERRIDE["services"]["search"]
    assert service["environment"] == {"OPENSEARCH_URL": ""}
    assert "opensearch" not in service["depends_on"]
    assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert re.search(r"^  search:\n(    .*\n)*    depends_on: !override\n", OVERRIDE_TEXT, re.M)
    # Everything else it waited for, it still waits for.
    before = set(BASE["services"]["search"]["depends_on"]) - {"opensearch"}
    assert before <= set(service["depends_on"])
    for name, service in OVERRIDE["services"].items():
        if name != "search":
            assert "environment" not in service, name
            assert "depends_on" not in service, name
    assert "search: embedded PostgreSQL backend" in CHECK


def _dockerd_flags() -> list[str]:
    match = re.search(r"^DOCKERD_FLAGS=\((.*)\)$", CHECK, re.M)
    assert match
    return shlex.split(match.group(1))


def test_the_engine_it_starts_has_exactly_the_flags_this_machine_allows() -> None:
    assert _dockerd_flags() == [
        "--iptables=false",
        "--ip6tables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--bridge=none",
    ]
    starts = re.findall(r"^\s*(?:sudo )?dockerd (.*)$", CHECK, re.M)
    assert starts, "the script starts dockerd"
    for line in starts:
        assert line.startswith('"${DOCKERD_FLAGS[@]}" --storage-driver="$driver" '), line
    assert re.search(r"^\s*for driver in overlay2 vfs; do$", CHECK, re.M)
    # It stops the engine it started by its pid, never by name.
    assert 'kill -TERM "$dockerd_pid"' in CHECK
    assert not re.search(r"\b(pkill|killall)\b", CHECK)


def test_make_compose_check_runs_the_script_and_smoke_decides() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^compose-check: .*\n\t@docker/compose-check.sh$", makefile, re.M)
    assert "up --wait" in CHECK
    assert "make --no-print-directory smoke" in CHECK
    assert "down -v --remove-orphans" in CHECK
    assert "compose-check: passed" in CHECK
    assert "compose-check: FAILED" in CHECK


def test_the_dynamodb_stand_in_takes_dynamodb_locals_arguments() -> None:
    port = free_port()
    command = [
        sys.executable,
        str(LOCAL / "devkit" / "dynamodb_local.py"),
        *BASE["services"]["dynamodb"]["command"],
        "-port",
        str(port),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/",
            data=b"{}",
            headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/"
                "aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310 - loopback
                    assert json.loads(answer.read()) == {"TableNames": []}
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the stand-in did not answer"
                time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "tables in memory (-dbPath /home/dynamodblocal/data not used)" in output
