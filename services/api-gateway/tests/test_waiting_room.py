"""The waiting room over real HTTP: gateways as real processes on the session's Redis db, a
stand-in for the events service saying which rooms are on, the echo upstream behind inventory
and booking. Enforcement at the edge and every way around it; two replicas keeping the limits;
a gateway killed and restarted; the room's Redis state flushed."""

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI, Header, HTTPException
from jwt.algorithms import OKPAlgorithm
from pydantic import ValidationError
from support import PREFIXES, gateway_env, hits
from ticketing_api_gateway.settings import GatewaySettings
from ticketing_common.signing import new_ed25519_pem
from ticketing_devkit.processes import ServiceProcess, free_port, serve_app
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_devkit.tokens import FakeIssuer

SERVICE_TOKEN = "dev-service-token-not-for-production"
GATEWAY_APP = "ticketing_api_gateway.main:create_app"


class FakeEvents:
    """The events service's /internal/waiting-rooms, with rooms a test turns on and off."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.app = FastAPI()
        self.app.get("/internal/waiting-rooms")(self.listing)

    async def listing(self, x_service_token: str | None = Header(default=None)) -> dict[str, Any]:
        if x_service_token != SERVICE_TOKEN:
            raise HTTPException(401)
        with self.lock:
            return {"items": list(self.rooms.values())}

    def put(self, event_id: str, **settings: Any) -> None:
        room = {
            "event_id": event_id,
            "enabled": True,
            "opens_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
            "admission_per_minute": 60_000,
            "max_shoppers": 1000,
            "shopping_minutes": 10,
        } | settings
        with self.lock:
            self.rooms[event_id] = room


@pytest.fixture(scope="module")
def events() -> Iterator[tuple[FakeEvents, str]]:
    fake = FakeEvents()
    with serve_app(fake.app) as url:
        yield fake, url


@pytest.fixture(scope="module")
def signing_key() -> str:
    return new_ed25519_pem()


@pytest.fixture(scope="module")
def room_env(
    upstream: ServiceProcess,
    jwks_url: str,
    redis_url: str,
    events: tuple[FakeEvents, str],
    signing_key: str,
) -> dict[str, str]:
    return gateway_env(
        dict.fromkeys(PREFIXES, upstream.url),
        jwks_url,
        redis_url,
        events_url=events[1],
        waiting_room_refresh_s="0.2",
        waiting_room_tick_s="0.1",
        waiting_room_signing_key=signing_key,
    )


@pytest.fixture(scope="module")
def gateways(room_env: dict[str, str]) -> Iterator[list[ServiceProcess]]:
    """Two replicas on the same Redis, signing with the same key."""
    processes = [ServiceProcess(GATEWAY_APP, room_env, name=f"gateway-room-{i}") for i in (1, 2)]
    for process in processes:
        process.start()
    yield processes
    for process in processes:
        process.stop()


@pytest.fixture
def http(gateways: list[ServiceProcess]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateways[0].url, timeout=10) as client:
        yield client


@pytest.fixture
def room(events: tuple[FakeEvents, str]) -> Callable[..., str]:
    """Turn a room on for a new event (the gateways see it within their refresh)."""

    def make(**settings: Any) -> str:
        event_id = f"evt-{uuid.uuid4().hex[:10]}"
        events[0].put(event_id, **settings)
        time.sleep(0.5)
        return event_id

    return make


class Shopper:
    def __init__(self, issuer: FakeIssuer, base_url: str) -> None:
        self.account = f"user-{uuid.uuid4().hex[:8]}"
        self.headers = {"Authorization": f"Bearer {issuer.token(sub=self.account)}"}
        self.base_url = base_url
        self.receipt: str | None = None

    def call(
        self, method: str, path: str, base_url: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(self.headers) | kw.pop("headers", {})
        return httpx.request(
            method, (base_url or self.base_url) + path, headers=headers, timeout=10, **kw
        )

    def join(self, event_id: str, base_url: str | None = None) -> dict[str, Any]:
        headers = {"X-Queue-Receipt": self.receipt} if self.receipt else {}
        response = self.call(
            "POST", f"/api/v1/waiting-room/{event_id}/join", base_url, headers=headers
        )
        assert response.status_code == 200, response.text
        return self._seen(response)

    def poll(self, event_id: str, base_url: str | None = None) -> httpx.Response:
        headers = {"X-Queue-Receipt": self.receipt} if self.receipt else {}
        return self.call("GET", f"/api/v1/waiting-room/{event_id}", base_url, headers=headers)

    def state(self, event_id: str, base_url: str | None = None) -> dict[str, Any]:
        response = self.poll(event_id, base_url)
        assert response.status_code == 200, response.text
        return self._seen(response)

    def _seen(self, response: httpx.Response) -> dict[str, Any]:
        body: dict[str, Any] = response.json()
        assert response.headers["retry-after"] == str(body["poll_after_seconds"])
        if body["receipt"]:
            self.receipt = body["receipt"]
        return body

    def admitted(self, event_id: str, timeout_s: float = 10) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.state(event_id)
            if state["state"] == "admitted":
                token: str = state["admission_token"]
                return token
            time.sleep(0.1)
        raise AssertionError(f"{self.account} was not admitted to {event_id}")

    def hold(
        self, event_id: str, token: str | None = None, path: str | None = None
    ) -> httpx.Response:
        headers = {"X-Admission-Token": token} if token else {}
        return self.call(
            "POST",
            path or f"/api/v1/inventory/events/{event_id}/holds",
            json={"seat_ids": ["A-1-1"]},
            headers=headers,
        )

    def book(self, hold_id: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"X-Admission-Token": token} if token else {}
        return self.call(
            "POST", "/api/v1/bookings", json={"hold_id": hold_id}, headers=headers, **kw
        )


def hold_id(event_id: str) -> str:
    """An id as inventory makes them: 22 random characters, a dot, the event."""
    return f"{secrets.token_urlsafe(16)}.{event_id}"


@pytest.fixture
def shopper(issuer: FakeIssuer, gateways: list[ServiceProcess]) -> Callable[[], Shopper]:
    return lambda: Shopper(issuer, gateways[0].url)


def refused(response: httpx.Response, event_id: str) -> dict[str, Any]:
    body = assert_problem(response, 403, event_id=event_id)
    assert body["type"].endswith("/waiting-room-required")
    assert body["title"] == "Join the waiting room"
    assert body["join"] == f"/api/v1/waiting-room/{event_id}/join"
    assert body["detail"]
    return body


def test_an_event_without_a_room_is_shopped_directly(
    http: httpx.Client, shopper: Callable[[], Shopper], upstream: ServiceProcess
) -> None:
    alice = shopper()
    state = alice.join("evt-no-room")
    assert state["state"] == "off"
    assert state["admission_token"] is None
    assert alice.state("evt-no-room")["state"] == "off"
    before = hits(upstream)
    assert alice.hold("evt-no-room").status_code == 200
    assert alice.book(hold_id("evt-no-room")).status_code == 200
    assert hits(upstream) == before + 2


def test_one_place_per_account_and_polls_say_when_to_ask_again(
    room: Callable[..., str], shopper: Callable[[], Shopper], gateways: list[ServiceProcess]
) -> None:
    opens = datetime.now(UTC) + timedelta(minutes=5)
    event_id = room(opens_at=opens.isoformat())
    alice, bob = shopper(), shopper()
    assert_problem(alice.poll(event_id), 404, type=alice.poll(event_id).json()["type"])
    assert alice.poll(event_id).json()["type"].endswith("/not-in-queue")
    first = alice.join(event_id)
    assert first["state"] == "waiting"
    assert first["position"] is None  # the order is drawn at the opening
    assert 290 <= first["estimated_wait_seconds"] <= 300
    assert first["poll_after_seconds"] == 30
    # Another tab, another device (another gateway replica): the same place.
    again = alice.join(event_id, gateways[1].url)
    assert again["receipt"] == first["receipt"]
    assert alice.state(event_id, gateways[1].url)["receipt"] == first["receipt"]
    assert bob.join(event_id)["receipt"] != first["receipt"]
    # Signed out: no place to take.
    anonymous = httpx.post(f"{gateways[0].url}/api/v1/waiting-room/{event_id}/join")
    assert_problem(anonymous, 401)
    assert_problem(httpx.get(f"{gateways[0].url}/api/v1/waiting-room/{event_id}"), 401)
    # Leaving gives the place up.
    assert alice.call("DELETE", f"/api/v1/waiting-room/{event_id}").status_code == 204
    assert alice.poll(event_id).status_code == 404


def test_holds_and_bookings_need_a_valid_admission_token(
    room: Callable[..., str], shopper: Callable[[], Shopper], upstream: ServiceProcess
) -> None:
    event_id = room()
    other_event = room()
    alice, bob = shopper(), shopper()
    before = hits(upstream)
    refused(alice.hold(event_id), event_id)
    refused(alice.book(hold_id(event_id)), event_id)
    # Every way of writing the hold path is the same path.
    refused(alice.hold(event_id, path=f"/api/v1/inventory/events/{event_id}/holds/"), event_id)
    encoded = event_id.replace("e", "%65", 1)
    refused(alice.hold(event_id, path=f"/api/v1/inventory/events/{encoded}/holds"), event_id)
    assert hits(upstream) == before  # none of it reached the services

    alice.join(event_id)
    token = alice.admitted(event_id)
    held = alice.hold(event_id, token)
    assert held.status_code == 200, held.text
    # The token is checked at the edge and stays there.
    assert "x-admission-token" not in {name for name, _ in held.json()["headers"]}
    # The seat map and availability stay public and unguarded.
    assert httpx.get(f"{alice.base_url}/api/v1/events/{event_id}/seatmap").status_code == 200
    assert (
        httpx.get(f"{alice.base_url}/api/v1/inventory/events/{event_id}/availability").status_code
        == 200
    )

    # Someone else's token, a token of another event, a forged or unsigned one: refused.
    bob.join(event_id)
    assert "another account" in refused(bob.hold(event_id, token), event_id)["detail"]
    alice.join(other_event)
    other_token = alice.admitted(other_event)
    assert "another event" in refused(alice.hold(event_id, other_token), event_id)["detail"]
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    forged = jwt.encode(
        claims, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA", headers=header
    )
    refused(alice.hold(event_id, forged), event_id)
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]})
    refused(alice.hold(event_id, unsigned), event_id)
    refused(alice.hold(event_id, token[:-4] + "AAAA"), event_id)
    refused(alice.hold(event_id, "garbage"), event_id)

    # A booking's event is its hold's: the token is needed for a hold of this event only.
    booked = alice.book(hold_id(event_id), token)
    assert booked.status_code == 200, booked.text
    assert bob.book(hold_id("evt-no-room")).status_code == 200
    # A body the gateway cannot judge is refused, not passed on.
    bad = alice.call(
        "POST",
        "/api/v1/bookings",
        content=b'{"hold_id": ',
        headers={"Content-Type": "application/json", "X-Admission-Token": token},
    )
    assert_problem(bad, 400)
    # Two hold_id members: the service reads what the gateway judged (the last), so naming a
    # free event first and this one last does not get past.
    free, guarded = hold_id("evt-no-room"), hold_id(event_id)
    sneaky = f'{{"hold_id": "{free}", "hold_id": "{guarded}"}}'.encode()
    refused(
        bob.call(
            "POST",
            "/api/v1/bookings",
            content=sneaky,
            headers={"Content-Type": "application/json"},
        ),
        event_id,
    )


def test_a_token_is_spent_once_its_holder_books_releases_or_leaves(
    room: Callable[..., str], shopper: Callable[[], Shopper]
) -> None:
    event_id = room()
    # Booked: the admission is over; the token replayed is refused, the state says expired.
    alice = shopper()
    alice.join(event_id)
    token = alice.admitted(event_id)
    assert alice.book(hold_id(event_id), token).status_code == 200
    assert "ended" in refused(alice.hold(event_id, token), event_id)["detail"]
    assert alice.state(event_id)["state"] == "expired"
    # Released the hold: likewise.
    bob = shopper()
    bob.join(event_id)
    token = bob.admitted(event_id)
    released = bob.call(
        "DELETE",
        f"/api/v1/inventory/holds/{hold_id(event_id)}",
        headers={"X-Admission-Token": token},
    )
    assert released.status_code == 200
    refused(bob.hold(event_id, token), event_id)
    # Left the room.
    carol = shopper()
    carol.join(event_id)
    token = carol.admitted(event_id)
    assert carol.call("DELETE", f"/api/v1/waiting-room/{event_id}").status_code == 204
    refused(carol.hold(event_id, token), event_id)
    # Joining again is a new place at the back, and a new token.
    carol.join(event_id)
    fresh = carol.admitted(event_id)
    assert fresh != token
    assert carol.hold(event_id, fresh).status_code == 200
    refused(carol.hold(event_id, token), event_id)


def test_an_expired_token_is_refused(
    room: Callable[..., str], shopper: Callable[[], Shopper], signing_key: str
) -> None:
    event_id = room()
    alice = shopper()
    alice.join(event_id)
    token = alice.admitted(event_id)
    claims = jwt.decode(token, options={"verify_signature": False}) | {"exp": int(time.time()) - 1}
    key = serialization.load_pem_private_key(signing_key.encode(), password=None)
    expired = jwt.encode(
        claims, key, algorithm="EdDSA", headers={"kid": jwt.get_unverified_header(token)["kid"]}
    )
    assert "expired" in refused(alice.hold(event_id, expired), event_id)["detail"]


def test_the_jwks_verifies_admission_tokens(
    http: httpx.Client, room: Callable[..., str], shopper: Callable[[], Shopper]
) -> None:
    event_id = room()
    alice = shopper()
    alice.join(event_id)
    token = alice.admitted(event_id)
    jwks = http.get("/api/v1/waiting-room/keys")
    assert jwks.status_code == 200
    assert jwks.headers["cache-control"].startswith("public")
    (key,) = jwks.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    claims = jwt.decode(
        token,
        OKPAlgorithm.from_jwk(json.dumps(key)),
        algorithms=["EdDSA"],
        audience="ticketing-waiting-room",
    )
    assert claims["sub"] == alice.account
    assert claims["evt"] == event_id
    assert claims["jti"]
    assert 590 <= claims["exp"] - time.time() <= 600  # shopping_minutes = 10
    state = alice.state(event_id)
    assert datetime.fromisoformat(state["admitted_until"]).timestamp() == pytest.approx(
        claims["exp"], abs=1
    )


def _admitted_count(redis_url: str, event_id: str) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.zcard(f"wr:{{{event_id}}}:act"))
    finally:
        client.close()


def test_two_replicas_keep_the_slots_and_the_rate_under_a_crowd(
    room: Callable[..., str],
    issuer: FakeIssuer,
    gateways: list[ServiceProcess],
    redis_url: str,
) -> None:
    opens = datetime.now(UTC) + timedelta(seconds=2)
    event_id = room(opens_at=opens.isoformat(), admission_per_minute=600, max_shoppers=8)
    crowd = [Shopper(issuer, gateways[i % 2].url) for i in range(80)]
    with ThreadPoolExecutor(16) as pool:
        states = list(pool.map(lambda s: s.join(event_id), crowd))
    assert all(s["state"] == "waiting" for s in states)
    time.sleep(max(0.0, opens.timestamp() - time.time()))
    seen = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        seen.append(_admitted_count(redis_url, event_id))
        time.sleep(0.05)
    assert max(seen) == 8  # every slot filled, never more
    with ThreadPoolExecutor(16) as pool:
        states = list(pool.map(lambda s: s.state(event_id), crowd))
    shopping = [s for s, state in zip(crowd, states, strict=True) if state["state"] == "admitted"]
    assert len(shopping) == 8
    positions = sorted(state["position"] for state in states if state["state"] == "waiting")
    assert positions == list(range(1, 73))
    # Three leave: three more get in.
    for leaving in shopping[:3]:
        assert leaving.call("DELETE", f"/api/v1/waiting-room/{event_id}").status_code == 204
    time.sleep(1.0)
    assert _admitted_count(redis_url, event_id) == 8
    staying = [s for s in crowd if s not in shopping[:3]]
    with ThreadPoolExecutor(16) as pool:
        states = list(pool.map(lambda s: s.state(event_id), staying))
    assert sum(1 for state in states if state["state"] == "admitted") == 8


def test_the_rate_holds_through_the_replicas(
    room: Callable[..., str], issuer: FakeIssuer, gateways: list[ServiceProcess], redis_url: str
) -> None:
    opens = datetime.now(UTC) + timedelta(seconds=2.5)
    event_id = room(opens_at=opens.isoformat(), admission_per_minute=120)  # 2 a second
    crowd = [Shopper(issuer, gateways[i % 2].url) for i in range(40)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda s: s.join(event_id), crowd))
    time.sleep(max(0.0, opens.timestamp() - time.time()) + 3.0)
    client = redis.Redis.from_url(redis_url)
    try:
        admitted = client.zrange(f"wr:{{{event_id}}}:log", 0, -1, withscores=True)
    finally:
        client.close()
    times = sorted(score / 1e6 for _, score in admitted)
    # The first three seconds: 2 a second, with one second's worth at the opening: 8.
    first_three = [t for t in times if t < opens.timestamp() + 3]
    assert 5 <= len(first_three) <= 8
    for index, at in enumerate(times):
        in_a_second = [t for t in times[index:] if t < at + 1.0]
        assert len(in_a_second) <= 3  # never a crowd, whichever replica ticked


def _admission_times(redis_url: str, event_id: str) -> list[float]:
    client = redis.Redis.from_url(redis_url)
    try:
        logged = client.zrange(f"wr:{{{event_id}}}:log", 0, -1, withscores=True)
    finally:
        client.close()
    return sorted(score / 1e6 for _, score in logged)


def test_a_restarted_gateway_keeps_places_and_does_not_open_the_doors(
    room: Callable[..., str],
    issuer: FakeIssuer,
    room_env: dict[str, str],
    redis_url: str,
) -> None:
    opens = datetime.now(UTC) + timedelta(seconds=2)
    event_id = room(opens_at=opens.isoformat(), admission_per_minute=60, max_shoppers=100)
    with ServiceProcess(GATEWAY_APP, room_env, name="gateway-restarted") as gateway:
        crowd = [Shopper(issuer, gateway.url) for _ in range(30)]
        for person in crowd:
            person.join(event_id)
        time.sleep(max(0.0, opens.timestamp() - time.time()) + 0.5)
        before = {p.account: p.state(event_id) for p in crowd}
        admitted = [p for p in crowd if before[p.account]["state"] == "admitted"]
        assert admitted
        token = before[admitted[0].account]["admission_token"]
        gateway.kill()  # SIGKILL: nothing saved on the way out
        time.sleep(1.0)
        gateway.start()
        after = {p.account: p.state(event_id) for p in crowd}
        # Nobody lost a place (the time passed let a few in ahead of them)...
        for person in crowd:
            if (
                before[person.account]["state"] == "waiting"
                and after[person.account]["state"] == "waiting"
            ):
                assert after[person.account]["position"] <= before[person.account]["position"]
        assert admitted[0].hold(event_id, token).status_code == 200  # ...the token still works
    # ...and the doors did not open: one a second (60 a minute) before, across and after the
    # restart, with one second's worth at the opening.
    times = _admission_times(redis_url, event_id)
    elapsed = times[-1] - opens.timestamp()
    assert len(times) <= 2 + elapsed
    for index, at in enumerate(times):
        assert len([t for t in times[index:] if t < at + 1.0]) <= 2


def test_a_redis_loss_gives_places_back_keeps_tokens_and_admits_at_the_rate(
    room: Callable[..., str],
    issuer: FakeIssuer,
    gateways: list[ServiceProcess],
    redis_url: str,
) -> None:
    opens = datetime.now(UTC) + timedelta(seconds=1)
    event_id = room(opens_at=opens.isoformat(), admission_per_minute=60, max_shoppers=100)
    crowd = [Shopper(issuer, gateways[0].url) for _ in range(20)]
    for person in crowd:
        person.join(event_id)
    time.sleep(max(0.0, opens.timestamp() - time.time()) + 1.2)
    before = {p.account: p.state(event_id) for p in crowd}
    shoppers = [p for p in crowd if before[p.account]["state"] == "admitted"]
    assert shoppers
    token = before[shoppers[0].account]["admission_token"]
    waiting = sorted(
        (p for p in crowd if before[p.account]["state"] == "waiting"),
        key=lambda p: before[p.account]["position"],
    )

    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # this test session's own db: every room's state is gone
    client.close()
    flushed_at = time.time()

    # A poll without its receipt says the place is gone (and how to get one)...
    lost = waiting[-1].call("GET", f"/api/v1/waiting-room/{event_id}")
    body = assert_problem(lost, 404)
    assert "lost" in body["detail"]
    # ...with it, everyone is back in the order they had, ahead of anyone new.
    after = [p.state(event_id)["position"] for p in waiting]
    assert after == sorted(after)
    newcomer = Shopper(issuer, gateways[1].url)
    position = newcomer.join(event_id)["position"]
    client = redis.Redis.from_url(redis_url)
    assert position == client.zcard(f"wr:{{{event_id}}}:q")  # the last place
    client.close()
    # A token issued before the loss still buys a hold.
    assert shoppers[0].hold(event_id, token).status_code == 200
    # The new state admits at the rate (one a second from an empty bucket), not a crowd.
    time.sleep(2.0)
    times = _admission_times(redis_url, event_id)
    assert len(times) <= 1 + (time.time() - flushed_at)
    for index, at in enumerate(times):
        assert len([t for t in times[index:] if t < at + 1.0]) <= 1


def test_holds_wait_until_the_gateway_knows_which_rooms_are_on(
    upstream: ServiceProcess, jwks_url: str, redis_url: str, issuer: FakeIssuer
) -> None:
    env = gateway_env(
        dict.fromkeys(PREFIXES, upstream.url),
        jwks_url,
        redis_url,
        events_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: events is down
    )
    with ServiceProcess(GATEWAY_APP, env, name="gateway-no-events") as gateway:
        alice = Shopper(issuer, gateway.url)
        response = alice.hold("evt-1")
        assert_problem(response, 503)
        assert response.headers["retry-after"]
        assert_problem(alice.book(hold_id("evt-1")), 503)
        # Reads are not held up.
        assert httpx.get(f"{gateway.url}/api/v1/events/evt-1/seatmap").status_code == 200


def test_production_refuses_to_start_without_a_signing_key() -> None:
    base = {
        "environment": "prod",
        "jwks_url": "http://auth/jwks",
        "service_token": "s" * 32,
        "redis_url": "redis://cache:6379/0",
    }
    with pytest.raises(ValidationError, match="WAITING_ROOM_SIGNING_KEY"):
        GatewaySettings(**base, events_url="http://events")
    with pytest.raises(ValidationError, match="EVENTS_URL"):
        GatewaySettings(**base, waiting_room_signing_key="pem")
    GatewaySettings(**base, waiting_room_signing_key="pem", events_url="http://events")
