"""The capacity model's measurements: each service operation the on-sale mix reaches, served by
one instance of the service pinned to core 1 by ../shared/bench/ratio (wrk on core 0, the
bare-ASGI hello-world measured first in the same run), then the model (ticketing_loadtest.capacity)
for 10,000 public req/s, written into loadtest/README.md between the capacity markers.

    make loadtest-stack &                     # the stack the instances lean on (peers, stores)
    uv run python loadtest/bench/capacity.py [--seconds 5] [--rps 10000] [--only KEY ...]

The instance under test is an extra copy of the service with `make dev`'s environment, so it
uses the dev stack's databases, Redis, DynamoDB (moto) and peers — which run unpinned, beside
wrk on core 0, so an operation that calls peers is measured with its peers sharing a core.
The gateway is measured in front of a trivial upstream (the hello-world app) so that its own cost
is what gets measured. Requests that change state each time (booking a hold, paying a booking)
cannot be one repeated wrk request: those run ratio's method by hand (the hello-world on core 1,
then the service on core 1, `wrk -t1 -c64` on core 0) with a wrk script that sends each request
for the next prepared hold or payment. Everything targets 127.0.0.1 and is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from ticketing_booking.reconciler import LOCK_KEY as RECONCILER_LEASE
from ticketing_devkit.bench import (
    BASELINE_PORT,
    BENCH,
    CpuWatch,
    asgi_on_core,
    cpu_seconds,
    find_process,
    parse_ratio,
    ratio_path,
    wait_for_baseline_port,
)
from ticketing_devkit.processes import (
    free_port,
    stop_process,
    uvicorn_command,
    wait_until_healthy,
)
from ticketing_devkit.stack import discover, service_env
from ticketing_loadtest import capacity
from ticketing_loadtest.api import DEV_SERVICE_TOKEN, api, login
from ticketing_loadtest.mix import request_shares
from ticketing_loadtest.prepare import (
    DEMO_ORGANIZER,
    create_onsale_event,
    register_accounts,
    venue_body,
)
from ticketing_payment.providers import TEST_PAYMENT_METHODS, LocalSimulator, PaymentRef
from ticketing_payment.settings import DEV_WEBHOOK_SECRET

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"


def _replay_module() -> Any:
    """services/search/bench/opensearch_replay.py (a script, not a package)."""
    path = HERE.parents[1] / "services" / "search" / "bench" / "opensearch_replay.py"
    spec = importlib.util.spec_from_file_location("opensearch_replay", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


replaying_opensearch = _replay_module().replaying_opensearch
GATEWAY = "http://127.0.0.1:8000"
INVENTORY = "http://127.0.0.1:8003"
UNLIMITED = {"rate": 1_000_000, "burst": 1_000_000}
MARK_START, MARK_END = "<!-- capacity:start -->", "<!-- capacity:end -->"
CONNECTIONS = 64
# Search is measured on production's backend: OpenSearch's answers replayed by a stand-in
# (services/search/bench/opensearch_replay.py); its URL replaces this mark.
OPENSEARCH = "<opensearch stand-in>"
# The share of the edge-cacheable public reads (an event, the listing, search, suggestions) that
# CloudFront answers during an on-sale: thousands of people reading the same few events and the
# first page of the listing within the 5 s their answers may be cached.
EDGE_HIT_RATIO = 0.9
# The crowds the waiting room is sized for: (people arriving per second, for how long, admitted
# per minute). The load test's burst (loadtest/README.md, "The waiting room": 240 people at 8 a
# second, 180 admitted a minute), and on-sales of 60,000 and 300,000 people arriving within a
# minute, admitted at the room's default rate.
ROOM_CROWDS = ((8.0, 30.0, 180), (1_000.0, 60.0, 600), (5_000.0, 60.0, 600))


@dataclass
class Case:
    key: str  # service/operation, as in mix.PUBLIC_REQUESTS
    how: str
    path: str
    method: str = "GET"
    body: str = ""
    headers: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    connections: int = CONNECTIONS


@dataclass
class Fixture:
    tokens: list[tuple[str, str]]  # (user id, access token)
    steady: str
    bench_events: list[str]
    pending_booking: str
    confirmed_booking: str
    hold_id: str
    user_id: str
    room_event: str  # an event whose waiting room is on, with the first account waiting in it


def subject(token: str) -> str:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


def hold(token: str, event_id: str, body: dict[str, Any]) -> str:
    hold_id: str = api(INVENTORY, token=token).post(
        f"/api/v1/inventory/events/{event_id}/holds", body
    )["hold_id"]
    return hold_id


def book(token: str, hold_id: str) -> dict[str, Any]:
    booking: dict[str, Any] = api(GATEWAY, token=token).post(
        "/api/v1/bookings", {"hold_id": hold_id}
    )
    return booking


def prepare_fixture(accounts: int) -> Fixture:
    """Accounts logged in, a steady event, two events with one large standing section (the
    pools of holds), a pending and a confirmed booking of the first account."""
    state = Path(".loadtest")
    registered = register_accounts(GATEWAY, state / "accounts.json", accounts)[:accounts]
    with ThreadPoolExecutor(8) as pool:
        tokens = list(
            pool.map(lambda a: login(GATEWAY, a.email, a.password, patience_s=60), registered)
        )
    organizer = api(GATEWAY, token=login(GATEWAY, *DEMO_ORGANIZER, patience_s=60))
    tag = datetime.now(UTC).strftime("%H%M%S")
    steady = create_onsale_event(
        organizer, f"Capacity Steady {tag}", venue_body(f"cap {tag}", 6, 20, 25, 1000)
    )
    bench_events = [
        create_onsale_event(
            organizer, f"Capacity Pool {tag}-{n}", venue_body(f"pool {tag}-{n}", 0, 0, 0, 150_000)
        )
        for n in range(3)  # one for the hold measurement, two for the pools of holds
    ]
    first = tokens[0]
    pending = book(first, hold(first, steady, {"seat_ids": ["S1-1-1", "S1-1-2"]}))
    confirmed = book(first, hold(first, steady, {"seat_ids": ["S1-2-1", "S1-2-2"]}))
    api(GATEWAY).simulate_payment(first, confirmed["payment"]["payment_id"])
    for _ in range(40):
        status = api(GATEWAY, token=first).get(f"/api/v1/bookings/{confirmed['booking_id']}")
        if status["status"] == "confirmed":
            break
        time.sleep(0.25)
    else:
        raise SystemExit("the confirmed booking never confirmed: is the stack healthy?")
    room_event = create_onsale_event(
        organizer, f"Capacity Room {tag}", venue_body(f"room {tag}", 1, 1, 10, 0)
    )
    # Opened a minute ago at one a minute: nobody is admitted while it is measured (a room
    # turned on after its opening starts with an empty bucket), everyone who joins waits.
    organizer.request(
        "PUT",
        f"/api/v1/events/{room_event}/waiting-room",
        what="turn the waiting room on",
        json={
            "enabled": True,
            "opens_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "admission_per_minute": 1,
            "max_shoppers": 1,
            "shopping_minutes": 10,
        },
    )
    time.sleep(3)  # the gateway reads the rooms every 2 s
    for token in reversed(tokens[:50]):  # 49 ahead of the first account, which polls
        api(GATEWAY, token=token).post(f"/api/v1/waiting-room/{room_event}/join")
    return Fixture(
        tokens=[(subject(t), t) for t in tokens],
        steady=steady,
        bench_events=bench_events,
        pending_booking=pending["booking_id"],
        confirmed_booking=confirmed["booking_id"],
        hold_id=hold(first, steady, {"seat_ids": ["S1-3-1"]}),
        user_id=subject(first),
        room_event=room_event,
    )


def cases(fx: Fixture) -> list[Case]:
    token = fx.tokens[0][1]
    user = [f"Authorization: Bearer {token}"]
    internal = [f"X-Service-Token: {DEV_SERVICE_TOKEN}"]
    payment = json.dumps(
        {
            "booking_id": f"capacity-{uuid.uuid4().hex[:12]}",
            "user_id": fx.user_id,
            "amount_cents": 9000,
            "currency": "GBP",
        }
    )
    login_body = json.loads(Path(".loadtest/accounts.json").read_text())[0]
    ev = fx.steady
    return [
        Case(
            "api-gateway/proxy",
            "authenticated GET, JWT verified, rate-limited, proxied to a trivial upstream",
            "/api/v1/bookings/any",
            headers=user,
        ),
        Case(
            "api-gateway/room-poll",
            "GET /api/v1/waiting-room/{id}: JWT verified, the place ranked in Redis (one batched "
            "script call), the estimate and Retry-After",
            f"/api/v1/waiting-room/{fx.room_event}",
            headers=user,
        ),
        Case("events/list", "GET /api/v1/events?limit=20", "/api/v1/events?limit=20"),
        Case("events/get", "GET /api/v1/events/{id}", f"/api/v1/events/{ev}"),
        Case(
            "events/seatmap",
            "GET /api/v1/events/{id}/seatmap (4,000 places)",
            f"/api/v1/events/{ev}/seatmap",
        ),
        Case(
            "events/layout",
            "GET /api/v1/events/{id}/layout (4,000 places; not in the mix: the web app's part)",
            f"/api/v1/events/{ev}/layout",
        ),
        Case(
            "events/internal-get",
            "GET /internal/events/{id}",
            f"/internal/events/{ev}",
            headers=internal,
        ),
        Case(
            "search/events",
            "GET /api/v1/search/events?q=final&limit=20 (OpenSearch backend, answers replayed)",
            "/api/v1/search/events?q=final&limit=20",
            env={"OPENSEARCH_URL": OPENSEARCH},
        ),
        Case(
            "search/suggest",
            "GET /api/v1/search/suggest?q=fin (OpenSearch backend, answers replayed)",
            "/api/v1/search/suggest?q=fin",
            env={"OPENSEARCH_URL": OPENSEARCH},
        ),
        Case(
            "inventory/availability",
            "GET availability (7 sections)",
            f"/api/v1/inventory/events/{ev}/availability",
        ),
        Case(
            "inventory/availability-seats",
            "GET availability?seats=true (4,000 places)",
            f"/api/v1/inventory/events/{ev}/availability?seats=true",
        ),
        Case(
            "inventory/availability-bits",
            "GET availability/bits (4,000 places; not in the mix: the web app's part)",
            f"/api/v1/inventory/events/{ev}/availability/bits",
        ),
        Case(
            "inventory/hold",
            "POST holds {section_id, quantity: 1} (201 each, 150,000 places)",
            f"/api/v1/inventory/events/{fx.bench_events[0]}/holds",
            "POST",
            json.dumps({"section_id": "GA", "quantity": 1}),
            user,
            {"MAX_ACTIVE_HOLDS_PER_USER": "100000000"},
        ),
        Case(
            "inventory/hold-get",
            "GET /internal/holds/{id}",
            f"/internal/holds/{fx.hold_id}",
            headers=internal,
        ),
        Case(
            "booking/get",
            "GET /api/v1/bookings/{id} (pending: a DynamoDB read each time)",
            f"/api/v1/bookings/{fx.pending_booking}",
            headers=user,
        ),
        Case(
            "booking/get-confirmed",
            "GET /api/v1/bookings/{id} of a confirmed booking (from memory; not in the model)",
            f"/api/v1/bookings/{fx.confirmed_booking}",
            headers=user,
        ),
        Case(
            "booking/list",
            "GET /api/v1/bookings?limit=20",
            "/api/v1/bookings?limit=20",
            headers=user,
        ),
        Case(
            "booking/tickets",
            "GET /api/v1/bookings/{id}/tickets (2 tickets with QR codes)",
            f"/api/v1/bookings/{fx.confirmed_booking}/tickets",
            headers=user,
        ),
        Case(
            "payment/create-again",
            "POST /internal/payments, one booking again (the idempotent path: a retry's; not in "
            "the model)",
            "/internal/payments",
            "POST",
            payment,
            internal,
        ),
        Case(
            "auth/login",
            "POST /api/v1/auth/login (argon2 verify)",
            "/api/v1/auth/login",
            "POST",
            json.dumps({"email": login_body["email"], "password": login_body["password"]}),
            env={"LOGIN_ATTEMPTS_PER_IP": "100000000"},
            # A login costs tens of milliseconds of CPU: 64 waiting connections would queue past
            # wrk's 2 s timeout and nothing would be counted.
            connections=4,
        ),
        Case(
            "auth/user-get",
            "GET /internal/users/{id}",
            f"/internal/users/{fx.user_id}",
            headers=internal,
        ),
    ]


def instance_env(service: str, extra: dict[str, str]) -> dict[str, str]:
    specs = discover()
    spec = next(s for s in specs if s.name == service)
    env = {**os.environ, **service_env(spec, specs, {}), "LOG_LEVEL": "INFO", **extra}
    return env


@contextmanager
def trivial_upstream() -> Iterator[str]:
    """The hello-world app as the gateway's upstream, on core 0 beside wrk."""
    with asgi_on_core("hello:app", 0, BENCH) as url:
        yield url


def via_ratio(
    case: Case, seconds: int, upstream: str | None, opensearch: str
) -> capacity.Measurement:
    service, operation = case.key.split("/")
    extra = {k: opensearch if v == OPENSEARCH else v for k, v in case.env.items()}
    if service == "api-gateway":
        assert upstream is not None
        routes = json.loads(instance_env(service, {})["GATEWAY_ROUTES"])
        extra["GATEWAY_ROUTES"] = json.dumps(dict.fromkeys(routes, upstream))
        extra["RATE_LIMITS"] = json.dumps({"default": {"anonymous": UNLIMITED, "user": UNLIMITED}})
    spec = next(s for s in discover() if s.name == service)
    port = free_port()
    args = [
        str(ratio_path()),
        "--python",
        sys.executable,
        "--server",
        " ".join(uvicorn_command(spec.app, port)),
        "--url",
        f"http://127.0.0.1:{port}{case.path}",
        "--ready",
        f"http://127.0.0.1:{port}/health",
        "--seconds",
        str(seconds),
        "--connections",
        str(case.connections),
    ]
    if case.method != "GET":
        args += ["--method", case.method, "--body", case.body]
    for header in case.headers:
        args += ["--header", header]
    for attempt in range(3):
        wait_for_baseline_port()
        watch, hello_watch = CpuWatch(port), CpuWatch(BASELINE_PORT)
        for each in (watch, hello_watch):
            each.start()
        result = subprocess.run(  # noqa: S603 - our harness, loopback only
            args, env=instance_env(service, extra), capture_output=True, text=True, check=False
        )
        for each in (watch, hello_watch):
            each.stop.set()
            each.join(5)
        if result.returncode == 0 and "ratio:" in result.stdout:
            rps, base, p99, errors = parse_ratio(result.stdout)
            if "Non-2xx" in errors:
                raise SystemExit(f"{case.key}: the requests failed ({errors}):\n{result.stdout}")
            how = f"{case.how} [wrk: {errors.strip('[] ')}]" if errors else case.how
            cpu, hello_cpu = watch.spent, hello_watch.spent
            cpu_rps = rps * seconds / cpu if cpu else 0.0
            hello_cpu_rps = base * seconds / hello_cpu if hello_cpu else 0.0
            return capacity.Measurement(
                service, operation, rps, base, p99, how, cpu_rps, baseline_cpu_rps=hello_cpu_rps
            )
        print(f"  ratio attempt {attempt + 1} failed: {result.stderr.strip()[-300:]}", flush=True)
        time.sleep(3)
    raise SystemExit(f"{case.key}: ratio kept failing")


# --- ratio's method by hand, for requests that change state ----------------------------------

POOL_SCRIPT = """
local items = {{ {items} }}
local k = 0
ok, other = 0, 0
request = function()
  k = k + 1
  local item = items[((k - 1) % #items) + 1]
  return wrk.format("POST", item[3], item[1], item[2])
end
response = function(status, headers, body)
  if status == {expect} then ok = ok + 1 else other = other + 1 end
end
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local t = threads[1]
  print(string.format("pool %d ok %d other %d", #items, t:get("ok"), t:get("other")))
end
"""


def wrk(url: str, seconds: int, script: str | None = None) -> str:
    args = [
        "/usr/bin/taskset",
        "-c",
        "0",
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        if script:
            file.write(script)
            file.flush()
            args += ["-s", file.name]
        return subprocess.run(  # noqa: S603
            [*args, url], capture_output=True, text=True, check=True
        ).stdout


def pinned(command: list[str], env: dict[str, str], ready: str, cwd: Path | None = None) -> Any:
    process = subprocess.Popen(  # noqa: S603
        ["/usr/bin/taskset", "-c", "1", *command],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_healthy(ready, 60, process)
    return process


def rate_of(out: str) -> tuple[float, str]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    return (float(rps.group(1)) if rps else 0.0), (p99.group(1) if p99 else "?")


@dataclass(frozen=True)
class PoolItem:
    """One request of a pool: sent once, by POST."""

    headers: dict[str, str]
    body: str
    path: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _lua_item(item: PoolItem) -> str:
    headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in item.headers.items())
    return f"{{ {{{headers}}}, {json.dumps(item.body)}, {json.dumps(item.path)} }}"


def by_hand(
    key: str, how: str, items: list[PoolItem], expect: int, seconds: int
) -> tuple[capacity.Measurement, int]:
    """ratio's method with a pool of distinct requests."""
    service, operation = key.split("/")
    wait_for_baseline_port()
    hello_port = free_port()
    hello_command = uvicorn_command("hello:app", hello_port)
    hello_command.remove("--factory")
    hello_url = f"http://127.0.0.1:{hello_port}/"
    hello = pinned(hello_command, dict(os.environ), hello_url, BENCH)
    try:
        hello_before = cpu_seconds(hello.pid)
        baseline, _ = rate_of(wrk(hello_url, seconds))
        hello_spent = cpu_seconds(hello.pid) - hello_before
    finally:
        stop_process(hello)
    spec = next(s for s in discover() if s.name == service)
    port = free_port()
    server = pinned(
        uvicorn_command(spec.app, port),
        instance_env(service, {}),
        f"http://127.0.0.1:{port}/health",
    )
    lua_items = ", ".join(_lua_item(item) for item in items)
    try:
        before = cpu_seconds(server.pid)
        out = wrk(
            f"http://127.0.0.1:{port}/",
            seconds,
            POOL_SCRIPT.format(items=lua_items, expect=expect),
        )
        spent = cpu_seconds(server.pid) - before
    finally:
        stop_process(server)
    rps, p99 = rate_of(out)
    sent = re.search(r"(\d+) requests in", out)
    requests_sent = int(sent.group(1)) if sent else 0
    counts = re.search(r"pool (\d+) ok (\d+) other (\d+)", out)
    if counts is None:
        raise SystemExit(f"{key}: unexpected wrk output:\n{out}")
    pool, ok, other = (int(n) for n in counts.groups())
    print(f"  {key}: pool {pool}, {ok} answered {expect}, {other} otherwise", flush=True)
    if other > ok * 0.02 or requests_sent >= pool:
        raise SystemExit(f"{key}: the pool ran out or requests failed; lower --seconds")
    cpu_rps = requests_sent / spent if spent else 0.0
    hello_cpu_rps = baseline * seconds / hello_spent if hello_spent else 0.0
    measured = capacity.Measurement(
        service, operation, rps, baseline, p99, how, cpu_rps, baseline_cpu_rps=hello_cpu_rps
    )
    return measured, requests_sent


def holds_pool(fx: Fixture) -> list[tuple[str, str]]:
    """Five standing holds per account per pool event (the per-user limit), made through
    inventory directly: (token, hold id)."""
    jobs = [
        (token, event) for _, token in fx.tokens for event in fx.bench_events[1:] for _ in range(5)
    ]
    with ThreadPoolExecutor(8) as pool:
        return list(
            pool.map(lambda j: (j[0], hold(j[0], j[1], {"section_id": "GA", "quantity": 1})), jobs)
        )


def booking_pool(holds: list[tuple[str, str]]) -> list[PoolItem]:
    """The request that books each hold, by its owner."""
    return [
        PoolItem(bearer(token), json.dumps({"hold_id": hold_id}), "/api/v1/bookings")
        for token, hold_id in holds
    ]


def top_up_bookings(unused: list[tuple[str, str]]) -> None:
    """Books the holds the booking measurement did not reach (through the dev stack, not
    measured), so the payment measurements have enough payments to make."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda each: book(*each), unused))


def pending_payments(fx: Fixture) -> list[dict[str, Any]]:
    """The bookings the booking measurement made that wait for their payment."""
    admin = api(
        "http://127.0.0.1:8004", token=login(GATEWAY, "admin@ticketing.dev", "Admin-demo-2026")
    )
    return [
        booking
        for event in fx.bench_events[1:]
        for booking in admin.pages("/api/v1/bookings", event_id=event, limit=100)
        if booking["status"] == "pending_payment" and booking.get("payment")
    ]


def simulate_pool(fx: Fixture, bookings: list[dict[str, Any]]) -> list[PoolItem]:
    """The local provider's confirmation of each booking's payment, by its owner."""
    tokens = dict(fx.tokens)
    return [
        PoolItem(
            bearer(tokens[booking["user_id"]]),
            json.dumps({"outcome": "succeeded"}),
            f"/api/v1/payments/{booking['payment']['payment_id']}/simulate",
        )
        for booking in bookings
    ]


def new_payments_pool(user_id: str, count: int) -> list[PoolItem]:
    """Payments for bookings nobody has paid for yet, as booking asks for each new booking."""
    headers = {"X-Service-Token": DEV_SERVICE_TOKEN, "Content-Type": "application/json"}
    return [
        PoolItem(
            headers,
            json.dumps(
                {
                    "booking_id": f"bench-{uuid.uuid4().hex}",
                    "user_id": user_id,
                    "amount_cents": 9000,
                    "currency": "GBP",
                }
            ),
            "/internal/payments",
        )
        for _ in range(count)
    ]


def webhook_pool(bookings: list[dict[str, Any]]) -> list[PoolItem]:
    """Stripe's `payment_intent.succeeded` webhook for each booking's payment, signed with the
    stack's webhook secret: what payment receives in production when a customer pays (the card
    is confirmed at Stripe, not here). Built by the service's own simulator, so the events are
    the ones its tests check against Stripe's shape."""
    secret = instance_env("payment", {}).get("STRIPE_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
    delivered: list[tuple[bytes, str]] = []

    async def deliver(payload: bytes, header: str) -> None:
        delivered.append((payload, header))

    simulator = LocalSimulator(secret, deliver)

    async def sign_all() -> None:
        for booking in bookings:
            ref = PaymentRef(
                payment_id=booking["payment"]["payment_id"],
                booking_id=booking["booking_id"],
                amount_cents=booking["amount_cents"],
                currency=booking["currency"],
                attempt=1,  # each a new booking's first payment
            )
            intent = await simulator.create_intent(ref)
            ref = dataclasses.replace(ref, provider_payment_id=intent.id)
            await simulator.confirm_intent(ref, TEST_PAYMENT_METHODS["succeeded"])

    asyncio.run(sign_all())
    return [
        PoolItem(
            {"Stripe-Signature": header, "Content-Type": "application/json"},
            payload.decode(),
            "/api/v1/payments/webhooks/stripe",
        )
        for payload, header in delivered
    ]


@dataclass
class Consumption:
    """What a make-dev service spent consuming facts: CPU-seconds beyond its idle rate, and the
    wall time until its consumer group had read and acknowledged everything."""

    cpu_s: float = 0.0
    wall_s: float = 0.0


@contextmanager
def consumed(
    service: str, stream: str, lease: str, timeout_s: float = 300
) -> Iterator[Consumption]:
    """Samples the make-dev instance of `service` (unpinned, as its consumer runs) from before
    the block until its consumer group has consumed `stream` to the end: a bus consumer cannot be
    driven by wrk, so its cost is CPU-seconds per fact, less the process's idle rate (its
    background loops) measured just before. The bench holds `lease` meanwhile, the lock its
    periodic pass takes (booking's payment reconciler): a pass reads every recently changed
    payment's booking, work that would land in the window or not by the clock."""
    spec = next(s for s in discover() if s.name == service)
    pid = find_process("uvicorn", f"--port {spec.dev_port}")
    if pid is None:
        raise SystemExit(f"{service}: the make-dev instance on port {spec.dev_port} not found")
    bus = redis.Redis.from_url(instance_env(service, {})["REDIS_URL"])
    holder = f"capacity-bench-{uuid.uuid4().hex}"
    deadline = time.monotonic() + 60
    while not bus.set(lease, holder, nx=True, px=int(timeout_s * 2000)):
        if time.monotonic() > deadline:
            raise SystemExit(f"{service}: {lease} stayed taken")
        time.sleep(0.2)  # a pass is running: it ends within its lease

    def group() -> dict[str, Any]:
        return next(g for g in bus.xinfo_groups(stream) if g["name"].decode() == service)

    def at_the_end(group: dict[str, Any], pending_before: int) -> bool:
        return bool(group["lag"] == 0 and group["pending"] <= pending_before)

    try:
        idle_from = cpu_seconds(pid)
        time.sleep(3)
        idle_rate = (cpu_seconds(pid) - idle_from) / 3
        pending_before = group()["pending"]
        result = Consumption()
        before, started = cpu_seconds(pid), time.monotonic()
        yield result
        deadline = started + timeout_s
        while not at_the_end(group(), pending_before):
            if time.monotonic() > deadline:
                raise SystemExit(f"{service}: its consumer did not reach the end of {stream}")
            time.sleep(0.05)
        result.wall_s = time.monotonic() - started
        result.cpu_s = cpu_seconds(pid) - before - idle_rate * result.wall_s
    finally:  # the reconciler's lease goes back even when the measurement fails
        if bus.get(lease) == holder.encode():
            bus.delete(lease)
        bus.close()


def summary(m: capacity.Measurement) -> str:
    return (
        f"{m.rps:,.0f} req/s, hello {m.baseline_rps:,.0f}, ratio {m.ratio:.3f}, "
        f"{m.cpu_rps:,.0f} req per CPU-second of the server"
    )


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores (nproc), {model}, Linux {platform.release()}"


def write_readme(text: str) -> None:
    readme = README.read_text()
    start, end = readme.index(MARK_START), readme.index(MARK_END)
    README.write_text(readme[: start + len(MARK_START)] + "\n" + text + "\n" + readme[end:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rps", type=float, default=10_000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--only", nargs="*", help="measure only these service/operation keys")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--edge-hit-ratio", type=float, default=EDGE_HIT_RATIO)
    parser.add_argument(
        "--reference-hello",
        type=float,
        default=0,
        help="scale each figure to a core whose hello-world does this many req/s per CPU-second "
        "(the issue's targets: 36000), by the hello of its own run; for a busy machine",
    )
    args = parser.parse_args()
    try:
        api(GATEWAY).get("/health")
    except OSError as exc:
        raise SystemExit(f"the stack is not up on {GATEWAY} (make loadtest-stack): {exc}") from exc
    started = time.monotonic()
    fixture = prepare_fixture(args.accounts)
    measured: dict[str, capacity.Measurement] = {}
    with trivial_upstream() as upstream, replaying_opensearch() as opensearch:
        for case in cases(fixture):
            if args.only and case.key not in args.only:
                continue
            print(f"== {case.key}: {case.how}", flush=True)
            m = via_ratio(case, args.seconds, upstream, opensearch)
            measured[m.key] = m
            print(f"  {summary(m)}, p99 {m.p99}", flush=True)
    if not args.only or "payment/create" in args.only:
        print("== payment/create (pool of new bookings)", flush=True)
        m, _ = by_hand(
            "payment/create",
            "POST /internal/payments for a new booking each (the row, the provider's intent, "
            "the row again: what every booking asks)",
            new_payments_pool(fixture.user_id, 12_000),
            201,
            min(args.seconds, 3),
        )
        measured[m.key] = m
        print(f"  {summary(m)}", flush=True)
    pooled = {"booking/create", "booking/confirm", "payment/webhook", "payment/simulate"}
    if not args.only or pooled & set(args.only):
        print("== booking/create (pool of holds)", flush=True)
        holds = holds_pool(fixture)
        m, used = by_hand(
            "booking/create",
            "POST /api/v1/bookings, a new hold each (inventory, events, payment, DynamoDB)",
            booking_pool(holds),
            201,
            args.seconds,
        )
        measured[m.key] = m
        print(f"  {summary(m)}", flush=True)
        top_up_bookings(holds[used:])
        bookings = pending_payments(fixture)
        half = len(bookings) // 2
        print("== payment/webhook (pool of the bookings made)", flush=True)
        with consumed("booking", "facts:payment", RECONCILER_LEASE) as confirming:
            m, paid = by_hand(
                "payment/webhook",
                "POST /api/v1/payments/webhooks/stripe, payment_intent.succeeded for a new "
                "payment each (signature checked, applied, the fact recorded)",
                webhook_pool(bookings[:half]),
                200,
                min(args.seconds, 2),
            )
        measured[m.key] = m
        print(f"  {summary(m)}", flush=True)
        print("== booking/confirm (the stack's booking consuming those payments)", flush=True)
        # The hello of the webhook's run is this measurement's baseline: the same minute, and
        # the consumer is not pinned, so its own core has no hello to compare with.
        c = capacity.Measurement(
            "booking",
            "confirm",
            paid / confirming.wall_s,
            m.baseline_rps,
            "-",
            "payment.succeeded consumed from the bus: the booking read, inventory's confirm, "
            "tickets signed, one DynamoDB transaction, the fact (make dev's booking, unpinned; "
            "CPU beyond its idle rate)",
            paid / confirming.cpu_s,
            baseline_cpu_rps=m.baseline_cpu_rps,
        )
        measured[c.key] = c
        print(f"  {paid} facts in {confirming.wall_s:.1f} s, {summary(c)}", flush=True)
        print("== payment/simulate (pool of the bookings made)", flush=True)
        m, _ = by_hand(
            "payment/simulate",
            "POST /api/v1/payments/{id}/simulate, a new payment each (the local provider's "
            "webhook applied; not in the model: production pays at Stripe)",
            simulate_pool(fixture, bookings[half:]),
            202,
            min(args.seconds, 2),
        )
        measured[m.key] = m
        print(f"  {summary(m)}", flush=True)
    if args.reference_hello:
        measured = {
            key: dataclasses.replace(m, reference_hello=args.reference_hello)
            for key, m in measured.items()
        }
    shares = request_shares()
    result = capacity.needs(args.rps, measured, shares=shares)
    cached = capacity.needs(args.rps, measured, shares=shares, edge_hit_ratio=args.edge_hit_ratio)
    text = "\n\n".join(
        [
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, "
            f"`uv run python loadtest/bench/capacity.py --seconds {args.seconds}"
            + (f" --reference-hello {args.reference_hello:.0f}" if args.reference_hello else "")
            + "` "
            f"({time.monotonic() - started:.0f} s).",
            capacity.render_measurements(measured),
            f"Mix (share of public requests): {capacity.render_shares(shares)}.",
            capacity.render_needs(args.rps, result, cached, args.edge_hit_ratio),
            "The waiting room at an on-sale (`capacity.room_load`: each waiting person polls at "
            "the pace the room sets, a join counted at a poll's cost; only the admitted move on "
            "to the seat map and inventory):",
            capacity.render_room(
                [
                    capacity.room_load(arrivals, seconds, per_minute, measured)
                    for arrivals, seconds, per_minute in ROOM_CROWDS
                ]
            ),
        ]
    )
    print(text, flush=True)
    if not args.no_readme and not args.only:
        write_readme(text)


if __name__ == "__main__":
    main()
