"""`make chaos`: an on-sale night's accidents, against a running `make dev`, then the proof that
the platform put itself right.

1. A fresh on-sale event and a few dozen customers (through the gateway, as the load test does).
2. A short bounded on-sale: `--workers` customers hold seats, book, pay (some payments fail, some
   customers cancel) for `--seconds`.
3. In the middle, the stack's Redis is flushed: `FLUSHDB` on the database the stack uses (its
   REDIS_URL, DB 0 under `make dev`: never FLUSHALL, which would wipe other databases on the same
   server). Inventory's state, holds, the bus's streams in flight, rate-limit buckets and
   idempotency records are gone at once. In production the equivalent is a total loss of the
   ElastiCache node (a flush, a node replaced, a failover that lost the last writes).
4. Later a service (booking, by default) is killed with SIGKILL while payments are in flight;
   `make dev` starts it again.
5. The load stops; the correctness check runs until every invariant holds or `--settle` passes:
   every on-sale event sellable again, no seat in two confirmed bookings, inventory's seats and
   counts agree with the bookings, every succeeded payment's booking confirmed (or refunded).

It prints what it did and when, the time each invariant took to hold again after the fault, and
exits non-zero when one does not. Everything targets 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import redis
from ticketing_common.platform import Platform, PlatformError
from ticketing_devkit.processes import listening_pid
from ticketing_devkit.stack import REDIS as STACK_REDIS  # make dev's: its own database, DB 0

from ticketing_loadtest import correctness
from ticketing_loadtest.api import DEV_SERVICE_TOKEN, api, login
from ticketing_loadtest.choices import require_loopback
from ticketing_loadtest.prepare import (
    DEMO_ORGANIZER,
    create_onsale_event,
    register_accounts,
    venue_body,
)

DEMO_ADMIN = ("admin@ticketing.dev", "Admin-demo-2026")
SERVICE_PORTS = {"booking": 8004, "inventory": 8003, "payment": 8005, "events": 8002}
SELLABLE_TARGET_S = 30.0  # issue 14: every on-sale event sells again within 30 s of a total loss
MAX_WORKERS = 64
MAX_SECONDS = 600

# The invariants, and the kinds of correctness findings that break each.
INVARIANTS: dict[str, frozenset[str]] = {
    "no seat in two confirmed bookings": frozenset({"seat-sold-twice"}),
    "inventory agrees with the bookings (seats, counts)": frozenset(
        {
            "sold-without-booking",
            "booked-not-sold",
            "counts-dont-add-up",
            "seat-statuses-disagree",
            "sold-count-mismatch",
        }
    ),
    "every succeeded payment's booking confirmed or refunded": frozenset(
        {"paid-not-confirmed", "confirmed-not-paid", "refund-missing", "refunded-but-kept"}
    ),
}


def say(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Tally:
    """What the simulated customers saw."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def render(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))


# --- the faults -------------------------------------------------------------------------------


def flush_stack_redis(url: str) -> int:
    """FLUSHDB on the stack's own database (the number in its URL): how many keys it held."""
    client = redis.Redis.from_url(url)
    try:
        keys = int(client.dbsize())
        client.flushdb()
        return keys
    finally:
        client.close()


def wait_healthy(url: str, timeout_s: float) -> float | None:
    """Seconds until `url`/health answers 200, or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return None


# --- the on-sale ------------------------------------------------------------------------------


class Customer:
    """One simulated customer: hold free seats, book, pay; sometimes fail or cancel."""

    def __init__(self, gateway: str, token: str, event_id: str, rng: random.Random) -> None:
        self.api = api(gateway, token=token, timeout_s=30)
        self.event_id = event_id
        self.rng = rng

    def shop_once(self, tally: Tally) -> None:
        status, availability = self.api.request(
            "GET",
            f"/api/v1/inventory/events/{self.event_id}/availability",
            params={"seats": "true"},
            ok=(200, 503),
        )
        if status == 503:
            tally.add("availability 503 (rebuilding)")
            time.sleep(0.5)
            return
        free = [seat for seat, state in availability["seats"].items() if state == "available"]
        if not free:
            tally.add("sold out")
            time.sleep(0.5)
            return
        seats = self.rng.sample(free, min(len(free), self.rng.choice((1, 1, 2))))
        status, hold = self.api.request(
            "POST",
            f"/api/v1/inventory/events/{self.event_id}/holds",
            json={"seat_ids": seats},
            ok=(201, 409, 503),
        )
        tally.add(f"hold {status}")
        if status != 201:
            return
        booking = self._retrying("POST", "/api/v1/bookings", {"hold_id": hold["hold_id"]}, tally)
        if booking is None or booking.get("payment") is None:
            return
        outcome = "failed" if self.rng.random() < 0.1 else "succeeded"
        path = f"/api/v1/payments/{booking['payment']['payment_id']}/simulate"
        if self._retrying("POST", path, {"outcome": outcome}, tally) is not None:
            tally.add(f"paid {outcome}")
        if self.rng.random() < 0.1:  # changes their mind: a refund if it went through
            time.sleep(self.rng.uniform(0.5, 2))
            self._retrying("POST", f"/api/v1/bookings/{booking['booking_id']}/cancel", None, tally)
            tally.add("cancelled")

    def _retrying(
        self, method: str, path: str, body: Any, tally: Tally, attempts: int = 20
    ) -> Any | None:
        """Like a client app: retries while the service behind is restarting or busy."""
        key = uuid.uuid4().hex
        for _ in range(attempts):
            try:
                api = self.api.with_headers(**{"Idempotency-Key": key})
                status, answer = api.request(method, path, json=body, ok=(200, 201, 202, 409))
                return answer if status != 409 else None
            except PlatformError as exc:
                if exc.status < 500:
                    tally.add(f"{path.split('/')[3]} {exc.status}")
                    return None
                tally.add(f"{path.split('/')[3]} {exc.status} (retried)")
            except httpx.HTTPError:
                tally.add(f"{path.split('/')[3]} connection error (retried)")
            time.sleep(1)
        return None


def run_customers(
    gateway: str,
    tokens: list[str],
    event_id: str,
    seconds: float,
    tally: Tally,
    stop: threading.Event,
) -> None:
    deadline = time.monotonic() + seconds

    def customer(index: int) -> None:
        rng = random.Random(index)  # noqa: S311 - seat picks, not secrets
        shopper = Customer(gateway, tokens[index % len(tokens)], event_id, rng)
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                shopper.shop_once(tally)
            except (PlatformError, httpx.HTTPError) as exc:
                tally.add(f"error {type(exc).__name__}")
                time.sleep(0.5)

    with ThreadPoolExecutor(len(tokens)) as pool:
        list(pool.map(customer, range(len(tokens))))


# --- the checks -------------------------------------------------------------------------------


def on_sale_events(events_url: str) -> list[str]:
    return [e["event_id"] for e in api(events_url).pages("/api/v1/events", limit=100)]


def sellable(inventory: Platform, event_ids: list[str]) -> list[str]:
    """The events inventory cannot sell right now (no 200 availability)."""
    missing = []
    for event_id in event_ids:
        status, _ = inventory.request(
            "GET", f"/api/v1/inventory/events/{event_id}/availability", ok=(200, 404, 503)
        )
        if status != 200:
            missing.append(event_id)
    return missing


def findings(
    read: Callable[[str], correctness.EventState], event_id: str
) -> tuple[set[str], list[correctness.Violation]]:
    """The kinds of violation now (reading again when inventory is still rebuilding)."""
    try:
        violations = correctness.check_event(read(event_id))
    except PlatformError as exc:
        return {f"unreadable ({exc.status})"}, []
    return {v.kind for v in violations}, violations


@dataclass
class Report:
    steps: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def step(self, message: str) -> None:
        self.steps.append(message)
        say(message)


def _flush_and_time(
    report: Report,
    redis_url: str,
    inventory: Platform,
    events: list[str],
    started: float,
    settle: float,
) -> float:
    """FLUSHDB the stack's Redis; how long until every on-sale event sells again. Returns when
    the flush happened."""
    keys = flush_stack_redis(redis_url)
    flushed = time.monotonic()
    report.step(f"FLUSHDB on {redis_url} ({keys:,} keys gone) at +{flushed - started:.1f} s")
    first_sale: float | None = None
    while time.monotonic() - flushed < settle:
        if not sellable(inventory, events):
            first_sale = time.monotonic() - flushed
            break
        time.sleep(0.25)
    if first_sale is None:
        report.failures.append(f"events not sellable {settle:.0f} s after the flush")
        return flushed
    report.figures.append(
        f"every on-sale event sellable again ({len(events)} events): "
        f"{first_sale:.1f} s after the FLUSHDB"
    )
    report.step(f"all {len(events)} on-sale events sellable again after {first_sale:.1f} s")
    if first_sale > SELLABLE_TARGET_S:
        report.failures.append(
            f"sellable after {first_sale:.1f} s, beyond the {SELLABLE_TARGET_S:.0f} s target"
        )
    return flushed


def _kill_and_time(report: Report, victim: str, url: str, started: float) -> float:
    """SIGKILL the service `victim`; how long until it answers again. Returns when it died."""
    pid = listening_pid(SERVICE_PORTS[victim])
    killed = time.monotonic()
    if pid is None:
        report.failures.append(f"no process listens on {victim}'s port: nothing to kill")
        return killed
    os.kill(pid, signal.SIGKILL)
    report.step(f"SIGKILL {victim} (pid {pid}) at +{killed - started:.1f} s, mid-saga")
    back = wait_healthy(url, 120)
    if back is None:
        report.failures.append(f"{victim} did not come back within 120 s (is `make dev` up?)")
    else:
        report.step(f"{victim} answered again {back:.1f} s after the kill (make dev restarted it)")
        report.figures.append(f"{victim} healthy again: {back:.1f} s after the SIGKILL")
    return killed


def _await_invariants(
    read: Callable[[str], correctness.EventState], event_id: str, deadline: float
) -> tuple[dict[str, float], list[correctness.Violation]]:
    """When each invariant first held, checking until all do or `deadline`; the last findings."""
    held_at: dict[str, float] = {}
    last: list[correctness.Violation] = []
    while True:
        kinds, last = findings(read, event_id)
        now = time.monotonic()
        unreadable = any(k.startswith("unreadable") for k in kinds)
        for invariant, breaking in INVARIANTS.items():
            if invariant not in held_at and not unreadable and not kinds & breaking:
                held_at[invariant] = now
        if len(held_at) == len(INVARIANTS) or now > deadline:
            return held_at, last
        time.sleep(1)


def _verdict(report: Report, last: list[correctness.Violation]) -> int:
    print("\n=== chaos: what happened", flush=True)
    for step in report.steps:
        print(f"  - {step}", flush=True)
    print("=== chaos: how long each invariant took to hold again", flush=True)
    for figure in report.figures:
        print(f"  - {figure}", flush=True)
    if report.failures:
        print("=== chaos: FAILED", flush=True)
        for failure in report.failures:
            print(f"  - {failure}", flush=True)
        for violation in last[:20]:
            print(f"    {violation.kind}: {violation.detail}", flush=True)
        return 1
    print("=== chaos: PASSED (every invariant holds)", flush=True)
    return 0


def chaos(args: argparse.Namespace) -> int:
    gateway = require_loopback(args.gateway)
    redis_url = args.redis_url
    host = urlparse(redis_url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to flush a Redis that is not on this machine: {redis_url}")
    report = Report()
    services = {name: f"http://127.0.0.1:{port}" for name, port in SERVICE_PORTS.items()}
    if wait_healthy(gateway, 5) is None:
        raise SystemExit(f"no stack at {gateway}: start `make dev` first")

    # 1. The event and the customers.
    organizer = api(gateway, token=login(gateway, *DEMO_ORGANIZER, patience_s=60))
    tag = time.strftime("%Y%m%d-%H%M%S")
    event_id = create_onsale_event(
        organizer, f"Chaos Night {tag}", venue_body(f"chaos {tag}", 2, 10, 20, 0)
    )
    accounts = register_accounts(gateway, Path(args.out) / "accounts.json", args.workers)
    tokens = [login(gateway, a.email, a.password, patience_s=60) for a in accounts[: args.workers]]
    report.step(f"on-sale event {event_id} (400 seats), {len(tokens)} customers signed in")

    admin = login(gateway, *DEMO_ADMIN, patience_s=60)
    checked = correctness.connect(
        admin,
        inventory_url=services["inventory"],
        booking_url=services["booking"],
        payment_url=services["payment"],
        service_token=DEV_SERVICE_TOKEN,
    )
    inventory = api(services["inventory"])
    pool = ThreadPoolExecutor(8)

    def read(event: str) -> correctness.EventState:
        return correctness.read_event(checked, event, pool)

    # 2. The on-sale, with the faults in its course.
    tally = Tally()
    stop = threading.Event()
    load = threading.Thread(
        target=run_customers, args=(gateway, tokens, event_id, args.seconds, tally, stop)
    )
    started = time.monotonic()
    load.start()
    report.step(f"on-sale started: {len(tokens)} customers for {args.seconds:.0f} s")

    time.sleep(args.flush_at)
    events = on_sale_events(services["events"])
    flushed = _flush_and_time(report, redis_url, inventory, events, started, args.settle)
    wait = started + args.kill_at - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    killed = _kill_and_time(report, args.kill, services[args.kill], started)
    load.join()
    ended = time.monotonic()
    report.step(f"on-sale over after {ended - started:.0f} s: {tally.render()}")

    # 3. Until every invariant holds (or the settle time is up).
    # Checked once the load stops: while customers keep paying, a payment in flight is always
    # "succeeded but not yet confirmed".
    report.step(
        f"checking the invariants from the end of the on-sale ({ended - killed:.1f} s after the "
        "SIGKILL) until each holds"
    )
    held_at, last = _await_invariants(read, event_id, ended + args.settle)
    for invariant in INVARIANTS:
        if invariant in held_at:
            report.figures.append(
                f"{invariant}: held {held_at[invariant] - ended:.1f} s after the on-sale stopped "
                f"({held_at[invariant] - killed:.1f} s after the SIGKILL, "
                f"{held_at[invariant] - flushed:.1f} s after the FLUSHDB)"
            )
        else:
            report.failures.append(f"{invariant}: still broken {args.settle:.0f} s after the load")
    still = sellable(inventory, events)
    if still:
        report.failures.append(f"not sellable at the end: {', '.join(still)}")
    try:
        say(correctness.summary(read(event_id)))
    except PlatformError as exc:
        say(f"summary unavailable: {exc}")
    pool.shutdown()
    return _verdict(report, last)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ticketing-loadtest chaos", description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("CHAOS_REDIS_URL", STACK_REDIS),
        help="the stack's Redis database, flushed (FLUSHDB) mid-run (default: make dev's, DB 0)",
    )
    parser.add_argument("--workers", type=int, default=16, help="simulated customers")
    parser.add_argument("--seconds", type=float, default=60, help="length of the on-sale")
    parser.add_argument("--flush-at", type=float, default=15, help="seconds into the on-sale")
    parser.add_argument("--kill-at", type=float, default=35, help="seconds into the on-sale")
    parser.add_argument("--kill", choices=sorted(SERVICE_PORTS), default="booking")
    parser.add_argument("--settle", type=float, default=180, help="how long invariants may take")
    parser.add_argument("--out", default="loadtest/results/chaos", help="accounts are kept here")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= MAX_WORKERS or not 10 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--workers 1..{MAX_WORKERS}, --seconds 10..{MAX_SECONDS}")
    if not 0 < args.flush_at < args.kill_at < args.seconds:
        parser.error("0 < --flush-at < --kill-at < --seconds")
    socket.setdefaulttimeout(60)
    sys.exit(chaos(args))


if __name__ == "__main__":
    main()
