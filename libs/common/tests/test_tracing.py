import json
import socket
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from ticketing_common.app import create_service_app
from ticketing_common.settings import ServiceSettings
from ticketing_common.tracing import outgoing_trace_header
from ticketing_devkit.processes import serve_app

router = APIRouter()


@router.get("/work")
async def work() -> dict[str, str | None]:
    return {"outgoing": outgoing_trace_header()}


@pytest.fixture(scope="module")
def daemon() -> Iterator[socket.socket]:
    """A UDP socket standing in for the X-Ray daemon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def base_url(daemon: socket.socket) -> Iterator[str]:
    port = daemon.getsockname()[1]
    settings = ServiceSettings(service_name="traced", xray_daemon_address=f"127.0.0.1:{port}")
    with serve_app(create_service_app(settings, title="t", routers=[router])) as url:
        yield url


def received_segment(daemon: socket.socket) -> dict[str, Any]:
    packet = daemon.recv(65536).decode()
    header, _, body = packet.partition("\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    return json.loads(body)  # type: ignore[no-any-return]


def test_incoming_trace_is_honoured_and_propagated(base_url: str, daemon: socket.socket) -> None:
    root = "1-5759e988-bd862e3fe1be46a994272793"
    response = httpx.get(
        f"{base_url}/work",
        headers={"X-Amzn-Trace-Id": f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"},
    )
    assert f"Root={root}" in response.headers["x-amzn-trace-id"]
    outgoing = response.json()["outgoing"]
    assert f"Root={root}" in outgoing
    assert "Sampled=1" in outgoing
    segment = received_segment(daemon)
    assert segment["trace_id"] == root
    assert segment["parent_id"] == "53995c3f42cd8ad8"
    assert segment["name"] == "traced"
    assert segment["http"]["response"]["status"] == 200
    assert f"Parent={segment['id']}" in outgoing  # the next hop's parent is this segment


def test_a_new_trace_starts_without_a_header(base_url: str, daemon: socket.socket) -> None:
    response = httpx.get(f"{base_url}/work", headers={"X-Amzn-Trace-Id": "Sampled=1"})
    root = response.headers["x-amzn-trace-id"].split(";")[0].removeprefix("Root=")
    assert root.startswith("1-")
    assert received_segment(daemon)["trace_id"] == root


def test_unsampled_requests_emit_nothing_but_keep_the_trace_id(
    base_url: str, daemon: socket.socket
) -> None:
    root = "1-5759e988-" + format(zlib.crc32(b"x"), "024x")
    response = httpx.get(f"{base_url}/work", headers={"X-Amzn-Trace-Id": f"Root={root};Sampled=0"})
    assert f"Root={root}" in response.headers["x-amzn-trace-id"]
    daemon.settimeout(0.3)
    try:
        with pytest.raises(TimeoutError):
            daemon.recv(65536)
    finally:
        daemon.settimeout(2)


def test_tracing_is_off_unless_configured() -> None:
    app = create_service_app(ServiceSettings(service_name="plain"), title="t", routers=[router])
    with serve_app(app) as url:
        response = httpx.get(f"{url}/work")
    assert "x-amzn-trace-id" not in response.headers
    assert response.json() == {"outgoing": None}
