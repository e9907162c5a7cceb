import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import APIRouter, Request
from ticketing_common.app import create_service_app
from ticketing_common.errors import PeerUnavailable
from ticketing_common.http_client import ServiceClient
from ticketing_common.internal import internal_router
from ticketing_common.logging import request_id_var
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import free_port, serve_app

internal = internal_router()


@internal.post("/echo")
async def echo(request: Request) -> dict[str, object]:
    return {"body": await request.json(), "request_id": request.headers.get("x-request-id")}


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    app = create_service_app(
        ServiceSettings(service_token="svc-token"), title="t", routers=[internal, APIRouter()]
    )
    with serve_app(app) as url:
        yield url


@pytest.fixture
async def client() -> AsyncIterator[ServiceClient]:
    client = ServiceClient("svc-token", timeout_s=2)
    await client.start()
    yield client
    await client.stop()


async def test_calls_carry_the_credential_and_request_id(
    upstream: str, client: ServiceClient
) -> None:
    token = request_id_var.set("rid-77")
    try:
        response = await client.call("echo", "POST", f"{upstream}/internal/echo", json={"a": 1})
    finally:
        request_id_var.reset(token)
    assert response.ok
    assert response.body == {"body": {"a": 1}, "request_id": "rid-77"}


async def test_a_wrong_credential_is_refused(upstream: str) -> None:
    client = ServiceClient("wrong")
    await client.start()
    try:
        response = await client.call("echo", "POST", f"{upstream}/internal/echo", json={})
    finally:
        await client.stop()
    assert response.status == 401


async def test_an_unreachable_service_is_unavailable(client: ServiceClient) -> None:
    with pytest.raises(PeerUnavailable) as caught:
        await client.call("inventory", "GET", f"http://127.0.0.1:{free_port()}/internal/x")
    assert caught.value.service == "inventory"
    assert caught.value.reason == "unreachable"


async def test_a_peer_that_accepts_and_never_answers_times_out(client: ServiceClient) -> None:
    """A frozen process (SIGSTOP, a GC pause, a hung event loop) still accepts connections: the
    call gives up after the client's timeout instead of waiting for ever."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts; nobody ever reads or answers
    port = silent.getsockname()[1]
    started = time.monotonic()
    try:
        with pytest.raises(PeerUnavailable) as caught:
            await client.call("inventory", "GET", f"http://127.0.0.1:{port}/internal/x")
    finally:
        silent.close()
    assert caught.value.reason == "timed out"
    assert time.monotonic() - started < 5  # the client's 2 s, not for ever
