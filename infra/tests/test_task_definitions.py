"""Every task definition file renders into input that botocore's RegisterTaskDefinition model
accepts, and says what a service needs in production."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from ticketing_infra import catalog
from ticketing_infra.catalog import ServiceSpec
from ticketing_infra.taskdefs import RenderError, render, validate, validation_errors

EXPECTED_SERVICES = {
    "api-gateway",
    "auth",
    "events",
    "booking",
    "payment",
    "search",
    "notification",
    "inventory",
}
# Fargate's valid task sizes: cpu units -> memory MiB.
FARGATE_SIZES = {
    "256": {"512", "1024", "2048"},
    "512": {str(m) for m in range(1024, 4097, 1024)},
    "1024": {str(m) for m in range(2048, 8193, 1024)},
}
SERVICES = catalog.discover()


def fake_arn(name: str) -> str:
    return f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}-AbCdEf"


def rendered(spec: ServiceSpec) -> dict[str, Any]:
    values = {
        "ACCOUNT_ID": "123456789012",
        "REGION": "eu-west-1",
        "IMAGE": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/ticketing/{spec.name}:abc123",
    }
    return render(spec.task_definition, values, fake_arn)


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("environment", [])}


def secrets_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["valueFrom"] for item in container.get("secrets", [])}


def test_one_task_definition_per_service() -> None:
    assert {spec.name for spec in SERVICES} == EXPECTED_SERVICES


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_rendered_file_is_valid_register_task_definition_input(spec: ServiceSpec) -> None:
    task_definition = rendered(spec)
    assert validation_errors(task_definition) is None
    assert "${" not in json.dumps(task_definition)


def test_the_validator_rejects_what_ecs_would() -> None:
    task_definition = rendered(SERVICES[0])
    assert validation_errors({**task_definition, "cpuUnits": "256"}) is not None
    assert validation_errors({**task_definition, "memory": 1024}) is not None
    without_family = {k: v for k, v in task_definition.items() if k != "family"}
    with pytest.raises(RenderError, match="family"):
        validate(without_family)


def test_unknown_placeholders_are_refused() -> None:
    with pytest.raises(RenderError, match=r"\$\{ACCOUNT\}"):
        render({"executionRoleArn": "arn:aws:iam::${ACCOUNT}:role/x"}, {}, fake_arn)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_fargate_shape(spec: ServiceSpec) -> None:
    task_definition = rendered(spec)
    assert task_definition["family"] == f"ticketing-{spec.name}"
    assert task_definition["networkMode"] == "awsvpc"
    assert task_definition["requiresCompatibilities"] == ["FARGATE"]
    assert task_definition["memory"] in FARGATE_SIZES[task_definition["cpu"]]
    assert task_definition["executionRoleArn"] == (
        "arn:aws:iam::123456789012:role/ticketing-ecs-execution"
    )
    assert task_definition["taskRoleArn"].endswith(f":role/ticketing-{spec.name}-task")
    app = next(c for c in task_definition["containerDefinitions"] if c["name"] == spec.name)
    assert app["image"].endswith(f"ticketing/{spec.name}:abc123")
    assert app["essential"] is True
    reserved = sum(c.get("memoryReservation", 0) for c in task_definition["containerDefinitions"])
    assert reserved <= int(task_definition["memory"])
    assert app["portMappings"] == [
        {"name": "http", "containerPort": 8000, "protocol": "tcp", "appProtocol": "http"}
    ]
    for container in task_definition["containerDefinitions"]:
        log = container["logConfiguration"]
        assert log["logDriver"] == "awslogs"
        assert log["options"]["awslogs-group"] == f"/ecs/ticketing-{spec.name}"
        assert log["options"]["awslogs-region"] == "eu-west-1"


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_adot_collector_sidecar(spec: ServiceSpec) -> None:
    containers = {c["name"]: c for c in rendered(spec)["containerDefinitions"]}
    collector = containers["adot-collector"]
    assert collector["essential"] is False  # tracing must never take the service down
    # A pinned release (bumped on purpose, never "latest"), with the configuration built into
    # the image for ECS: OTLP in (4317/4318, and the X-Ray daemon's UDP 2000), X-Ray out.
    image, tag = collector["image"].rsplit(":", 1)
    assert image == "public.ecr.aws/aws-observability/aws-otel-collector"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag)
    assert collector["command"] == ["--config=/etc/ecs/ecs-default-config.yaml"]
    assert collector["healthCheck"]["command"] == ["/healthcheck"]
    app = containers[spec.name]
    env = env_of(app)
    # The service exports OTLP/HTTP to the sidecar (the tracing module's OpenTelemetry backend).
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert "XRAY_DAEMON_ADDRESS" not in env  # one backend at a time (ServiceSettings refuses both)
    # Started before the app, but the app never waits for it to be healthy.
    assert app["dependsOn"] == [{"containerName": "adot-collector", "condition": "START"}]


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_environment_and_secrets(spec: ServiceSpec) -> None:
    app = spec.app_container
    env, secrets = env_of(app), secrets_of(app)
    assert env["ENVIRONMENT"] == "prod"  # the value ServiceSettings accepts for production
    assert env["SERVICE_NAME"] == spec.name
    assert env["LOG_LEVEL"]
    assert {"SERVICE_TOKEN", "REDIS_URL"} <= secrets.keys()
    for peer in EXPECTED_SERVICES - {spec.name}:
        prefix = peer.upper().replace("-", "_")
        assert env[f"{prefix}_URL"] == f"http://{peer}.ticketing.local:8000"
    if spec.name != "auth":
        assert env["JWKS_URL"] == "http://auth.ticketing.local:8000/api/v1/auth/jwks"
    names = [i["name"] for i in app.get("environment", []) + app.get("secrets", [])]
    assert len(names) == len(set(names)), "a variable is both plain and secret, or repeated"
    for value in secrets.values():
        assert value.startswith("${SECRET:ticketing/")
    for value in env.values():  # no URL with credentials in a plain environment variable
        assert not re.search(r"://[^/@\s]+:[^/@\s]*@", value), value


def test_databases_and_service_specific_settings() -> None:
    by_name = {spec.name: spec for spec in SERVICES}
    owners = {spec.name for spec in SERVICES if spec.owns_database}
    assert owners == {"auth", "events", "payment", "notification", "search"}
    assert "SIGNING_KEYS" in secrets_of(by_name["auth"].app_container)
    payment = secrets_of(by_name["payment"].app_container)
    assert {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} <= payment.keys()
    assert "OPENSEARCH_URL" in secrets_of(by_name["search"].app_container)
    booking = by_name["booking"].app_container
    assert env_of(booking)["DYNAMODB_TABLE"] == "ticketing-bookings"
    assert env_of(booking)["AWS_REGION"] == "${REGION}"
    assert "TICKET_SIGNING_KEY" in secrets_of(booking)
    gateway = by_name["api-gateway"].app_container
    assert "WAITING_ROOM_SIGNING_KEY" in secrets_of(gateway)
    assert env_of(gateway)["EVENTS_URL"]  # which events' holds go through a waiting room
    assert env_of(by_name["payment"].app_container)["PAYMENT_PROVIDER"] == "stripe"
    notification = env_of(by_name["notification"].app_container)
    assert notification["MAIL_TRANSPORT"] == "ses"
    assert notification["SES_REGION"] == "${REGION}"


def test_gateway_routes_cover_every_declared_public_route() -> None:
    gateway = env_of(next(s for s in SERVICES if s.name == "api-gateway").app_container)
    routes = json.loads(gateway["GATEWAY_ROUTES"])
    declared = 0
    for manifest in sorted(catalog.REPO_ROOT.glob("services/*/pyproject.toml")):
        table = tomllib.loads(manifest.read_text()).get("tool", {}).get("ticketing", {})
        for route in table.get("routes", []):
            declared += 1
            assert routes[route] == f"http://{manifest.parent.name}.ticketing.local:8000"
    assert declared >= 1
    assert all(url.endswith(".ticketing.local:8000") for url in routes.values())


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_health_check(spec: ServiceSpec, port: int) -> int:
    command = spec.app_container["healthCheck"]["command"]
    assert command[:3] == ["CMD", "python", "-c"], "exec form: no shell, no curl in a slim image"
    code = command[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20).returncode


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_health_check_needs_only_python(
    spec: ServiceSpec, health_server: http.server.HTTPServer
) -> None:
    assert "curl" not in json.dumps(spec.app_container["healthCheck"])
    port = health_server.server_address[1]
    _Health.status = 200
    assert run_health_check(spec, port) == 0
    _Health.status = 503
    try:
        assert run_health_check(spec, port) != 0
    finally:
        _Health.status = 200


def test_health_check_fails_when_nothing_listens(health_server: http.server.HTTPServer) -> None:
    port = health_server.server_address[1]
    health_server.shutdown()
    health_server.server_close()
    assert run_health_check(SERVICES[0], port) != 0
