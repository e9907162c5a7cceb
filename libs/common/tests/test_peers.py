"""One failure policy for every command (ticketing_common.peers), over real HTTP: a typed answer,
a definite refusal the caller acts on, and everything else one error — answered at the HTTP edge
as one problem type."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Response
from ticketing_common import contracts
from ticketing_common.app import create_service_app
from ticketing_common.contracts import Command, HoldRecord, NoBody
from ticketing_common.http_client import ServiceClient
from ticketing_common.internal import internal_router
from ticketing_common.peers import PeerClient, PeerRefused, PeerUnavailable
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import free_port, serve_app

internal = internal_router()
HOLD = {
    "hold_id": "h/1",
    "event_id": "e1",
    "user_id": "u1",
    "seat_ids": ["A-1-1"],
    "section_id": None,
    "quantity": 1,
    "expires_at": "2030-01-01T00:00:00Z",
    "status": "held",
    "booking_id": None,
}
ANSWERS: dict[str, tuple[int, Any]] = {}


@internal.api_route("/answer/{name}", methods=["GET", "POST"])
async def answer(name: str) -> Response:
    status, body = ANSWERS[name]
    content = body if isinstance(body, bytes) else httpx.Response(200, json=body).content
    return Response(content, status, media_type="application/problem+json")


def command(name: str, refusals: frozenset[int] = frozenset()) -> Command[NoBody, HoldRecord]:
    return Command("peer", "GET", "/internal/answer/" + name, NoBody, HoldRecord, (), refusals)


class Peer(PeerClient):
    async def ask(self, name: str, refusals: frozenset[int] = frozenset()) -> HoldRecord:
        return await self.send(command(name, refusals))


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    app = create_service_app(
        ServiceSettings(service_token="svc-token"), title="t", routers=[internal, APIRouter()]
    )
    with serve_app(app) as url:
        yield url


@pytest.fixture
async def peer(upstream: str) -> AsyncIterator[Peer]:
    services = ServiceClient("svc-token", timeout_s=2)
    await services.start()
    yield Peer(services, upstream)
    await services.stop()


async def test_an_answer_comes_back_as_the_contracts_model(peer: Peer) -> None:
    ANSWERS["ok"] = (200, HOLD)
    hold = await peer.ask("ok")
    assert isinstance(hold, HoldRecord)
    assert (hold.hold_id, hold.seat_ids, hold.status) == ("h/1", ["A-1-1"], "held")


async def test_a_refusal_the_command_names_is_definite_with_its_slug(peer: Peer) -> None:
    ANSWERS["taken"] = (409, {"type": "https://ticketing-pro.com/problems/seats-taken"})
    with pytest.raises(PeerRefused) as refused:
        await peer.ask("taken", frozenset({409}))
    assert (refused.value.status, refused.value.slug) == (409, "seats-taken")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"type": "about:blank"}),  # the peer broke
        (409, {"type": "x/seats-taken"}),  # a status this command does not name
        (200, {"hold_id": "h1"}),  # an answer outside the contract
        (200, b"<html>not json</html>"),  # garbage
    ],
)
async def test_anything_else_is_the_peer_failing(peer: Peer, status: int, body: Any) -> None:
    ANSWERS["bad"] = (status, body)
    with pytest.raises(PeerUnavailable) as failed:
        await peer.ask("bad")
    assert failed.value.service == "peer"


async def test_path_parameters_are_escaped(peer: Peer) -> None:
    ask = Command("peer", "GET", "/internal/answer/{name}", NoBody, HoldRecord, ())
    ANSWERS["a b?c"] = (200, HOLD)
    assert (await peer.send(ask, name="a b?c")).hold_id == "h/1"


def test_every_command_is_listed_once_with_its_callers() -> None:
    assert len({(c.service, c.method, c.path) for c in contracts.COMMANDS}) == len(
        contracts.COMMANDS
    )
    assert all(c.callers and c.service not in c.callers for c in contracts.COMMANDS)
    named = {value for value in vars(contracts).values() if isinstance(value, Command)}
    assert named == set(contracts.COMMANDS)


def test_a_failing_peer_is_one_problem_at_the_http_edge() -> None:
    """Whatever went wrong with the peer, the caller's client gets 503 dependency-unavailable
    with Retry-After and the peer's name."""
    router = APIRouter()
    dead = f"http://127.0.0.1:{free_port()}"

    @router.get("/needs-a-peer")
    async def needs_a_peer() -> None:
        services = ServiceClient("svc-token", timeout_s=1)
        await services.start()
        try:
            await Peer(services, dead).ask("ok")
        finally:
            await services.stop()

    settings = ServiceSettings(service_token="svc-token")
    app = create_service_app(settings, title="t", routers=[router])
    with serve_app(app) as url:
        response = httpx.get(f"{url}/needs-a-peer", timeout=10)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["type"] == "https://ticketing-pro.com/problems/dependency-unavailable"
    assert body["service"] == "peer"
