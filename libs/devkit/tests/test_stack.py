import asyncio
import json
import socket
import sys
from pathlib import Path

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_devkit import stack
from ticketing_devkit.dev import (
    StackError,
    _pretty,
    _reachable,
    busy_ports,
    check_ports_free,
    set_up,
    start_auxiliary,
    start_order,
)
from ticketing_devkit.processes import free_port
from ticketing_devkit.stack import (
    DEMO_ADMIN,
    AuxiliaryProcess,
    ServiceSpec,
    auxiliary_processes,
    discover,
    seed_env,
    service_env,
)


def test_services_are_discovered_from_their_pyproject() -> None:
    specs = {spec.name: spec for spec in discover()}
    auth = specs["auth"]
    assert auth.package == "ticketing_auth"
    assert auth.database == "auth"
    assert "/api/v1/auth" in auth.routes
    ports = [spec.dev_port for spec in specs.values()]
    assert len(ports) == len(set(ports)), "two services share a dev port"


def test_each_service_gets_its_peers_and_its_own_database() -> None:
    specs = discover()
    auth = next(spec for spec in specs if spec.name == "auth")
    env = service_env(auth, specs, {"LOG_LEVEL": "DEBUG"})
    assert env["DATABASE_URL"].endswith("/ticketing_auth")
    assert env["AUTH_URL"] == auth.url
    assert "JWKS_URL" not in env  # auth verifies with its own keys
    assert json.loads(env["SIGNING_KEYS"])[0]["kid"]
    assert json.loads(env["GATEWAY_ROUTES"])["/api/v1/auth"] == auth.url
    assert env["LOG_LEVEL"] == "DEBUG"


def test_json_log_lines_are_rendered_for_humans() -> None:
    line = (
        b'{"ts":"2026-11-26T03:12:39.000Z","level":"info","service":"auth",'
        b'"logger":"x","msg":"hi","n":1}'
    )
    assert _pretty(line) == "03:12:39 INFO    hi n=1"
    assert _pretty(b"plain text\n") == "plain text"


def test_seed_jobs_get_the_demo_admin_and_services_do_not() -> None:
    specs = discover()
    auth = next(spec for spec in specs if spec.name == "auth")
    env = seed_env(auth, specs)
    assert (env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"]) == DEMO_ADMIN
    assert env["AUTH_URL"] == auth.url
    others = [spec for spec in specs if spec.name != "auth"]
    assert all("ADMIN_PASSWORD" not in service_env(spec, specs, {}) for spec in others)


def test_booking_gets_the_dev_dynamodb_and_a_ticket_key_that_survives_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack, "DEV_DIR", tmp_path)
    specs = discover()
    booking = next(spec for spec in specs if spec.name == "booking")
    assert booking.dynamodb_table == "ticketing-bookings"
    assert booking.setup == ("create-table",)  # before the services start, not after
    assert "create-table" not in booking.commands
    dynamodb = next(aux for aux in auxiliary_processes() if aux.name == "dynamodb")
    assert dynamodb.args[1:3] == ("-m", "ticketing_devkit.moto_server")
    assert dynamodb.port == stack.DYNAMODB_PORT

    env = service_env(booking, specs, {})
    assert env["DYNAMODB_ENDPOINT_URL"] == f"http://127.0.0.1:{dynamodb.port}"
    assert env["DYNAMODB_TABLE"] == "ticketing-bookings"
    assert all(env[name] for name in ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
    key = serialization.load_pem_private_key(env["TICKET_SIGNING_KEY"].encode(), None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert service_env(booking, specs, {})["TICKET_SIGNING_KEY"] == env["TICKET_SIGNING_KEY"]
    assert (tmp_path / "ticket-signing-key.pem").stat().st_mode & 0o077 == 0

    others = [spec for spec in specs if spec.name != "booking" and not spec.dynamodb_table]
    for spec in others:
        other_env = service_env(spec, specs, {})
        assert "TICKET_SIGNING_KEY" not in other_env
        assert "DYNAMODB_ENDPOINT_URL" not in other_env
        assert "AWS_ACCESS_KEY_ID" not in other_env


def test_the_gateway_gets_a_waiting_room_key_that_survives_restarts_and_the_events_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack, "DEV_DIR", tmp_path)
    specs = discover()
    gateway = next(spec for spec in specs if spec.name == "api-gateway")
    env = service_env(gateway, specs, {})
    key = serialization.load_pem_private_key(env["WAITING_ROOM_SIGNING_KEY"].encode(), None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert (
        service_env(gateway, specs, {})["WAITING_ROOM_SIGNING_KEY"]
        == env["WAITING_ROOM_SIGNING_KEY"]
    )
    assert env["EVENTS_URL"] == next(spec for spec in specs if spec.name == "events").url
    for spec in specs:
        if spec.name != "api-gateway":
            assert "WAITING_ROOM_SIGNING_KEY" not in service_env(spec, specs, {})


async def test_setup_jobs_run_with_the_service_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "fake_service"
    package.mkdir()
    (package / "__main__.py").write_text(
        "import os, sys\n"
        "with open(os.environ['RECORD'], 'a') as f:\n"
        "    f.write(sys.argv[1] + ' ' + os.environ['DYNAMODB_ENDPOINT_URL'] + '\\n')\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("RECORD", str(tmp_path / "ran"))
    monkeypatch.setattr(stack, "DEV_DIR", tmp_path)
    spec = ServiceSpec(
        name="fake",
        package="fake_service",
        app="fake_service.main:create_app",
        dev_port=free_port(),
        dynamodb_table="fake-table",
        setup=("create-table", "warm-cache"),
    )
    await set_up([spec])
    endpoint = f"http://127.0.0.1:{stack.DYNAMODB_PORT}"
    assert (tmp_path / "ran").read_text().splitlines() == [
        f"create-table {endpoint}",
        f"warm-cache {endpoint}",
    ]


async def test_make_dev_starts_dynamodb_as_a_process_and_reuses_a_running_one() -> None:
    port = free_port()
    aux = AuxiliaryProcess(
        "dynamodb",
        (sys.executable, "-m", "ticketing_devkit.moto_server", "--port", str(port)),
        port=port,
        url=f"http://127.0.0.1:{port}/moto-api/",
    )
    pumps: list[asyncio.Task[None]] = []
    process = await start_auxiliary(aux, "dynamodb |", pumps)
    assert process is not None
    try:
        assert await _reachable("127.0.0.1", port)
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="dev",
            aws_secret_access_key="dev",
        )
        await asyncio.to_thread(
            client.create_table,
            TableName="t",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert (await asyncio.to_thread(client.list_tables))["TableNames"] == ["t"]
        assert await start_auxiliary(aux, "dynamodb |", pumps) is None  # already there: reused
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
        for pump in pumps:
            pump.cancel()


def test_access_lines_do_not_repeat_what_their_message_says() -> None:
    line = (
        b'{"ts":"2026-11-26T03:12:39.000Z","level":"info","msg":"GET /api/v1/x 200",'
        b'"request_id":"abc","method":"GET","path":"/api/v1/x","status":200,"duration_ms":1.5}'
    )
    assert _pretty(line) == "03:12:39 INFO    GET /api/v1/x 200 request_id=abc duration_ms=1.5"
    # A one-word message repeats nothing, so its fields all stay.
    assert _pretty(b'{"ts":"","level":"info","msg":"ready","state":"ready"}').endswith(
        "ready state=ready"
    )


def test_under_make_dev_only_trusted_proxy_hops_decide_who_the_client_is() -> None:
    specs = discover()
    by_name = {spec.name: spec for spec in specs}
    gateway = service_env(by_name["api-gateway"], specs, {})
    # People call the gateway directly: no proxy in front, and uvicorn believes no header.
    assert gateway["TRUSTED_PROXY_HOPS"] == "0"
    for spec in specs:
        assert service_env(spec, specs, {})["FORWARDED_ALLOW_IPS"] == ""
    assert "TRUSTED_PROXY_HOPS" not in service_env(by_name["auth"], specs, {})  # its default: 1
    assert service_env(by_name["payment"], specs, {})["PAYMENT_PROVIDER"] == "local"
    assert "OPENSEARCH_URL" not in service_env(by_name["search"], specs, {})  # embedded backend


def test_the_web_app_on_its_dev_port_may_call_the_gateway() -> None:
    specs = discover()
    gateway = next(spec for spec in specs if spec.name == "api-gateway")
    origins = json.loads(service_env(gateway, specs, {})["CORS_ORIGINS"])
    assert origins == ["http://localhost:5173", "http://127.0.0.1:5173"]
    assert all("CORS_ORIGINS" not in service_env(s, specs, {}) for s in specs if s is not gateway)


def test_make_dev_refuses_to_start_on_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        free = free_port()
        assert busy_ports([port, free]) == [port]
        spec = ServiceSpec(
            "payment", "ticketing_payment", "ticketing_payment.main:create_app", port
        )
        with pytest.raises(StackError, match=rf"{port} \(payment\)"):
            check_ports_free([spec], web_port=None)
        with pytest.raises(StackError, match=rf"{port} \(web\)"):
            check_ports_free([], web_port=port)
    check_ports_free([spec], web_port=None)  # released: nothing to say


def test_auth_starts_before_the_services_that_fetch_its_keys() -> None:
    specs = discover()
    first, rest = start_order(specs)
    assert [spec.name for spec in first] == ["auth"]
    assert {spec.name for spec in rest} == {spec.name for spec in specs} - {"auth"}
    for spec in rest:
        assert service_env(spec, specs, {})["JWKS_URL"].startswith(first[0].url)
    without_auth = [spec for spec in specs if spec.name != "auth"]
    assert start_order(without_auth) == [without_auth]


def test_free_ports_are_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(2000)]  # the kernel alone repeats some within 2,000
    assert len(set(ports)) == len(ports)
