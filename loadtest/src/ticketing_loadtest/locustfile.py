"""The on-sale load test.

    locust -f loadtest/src/ticketing_loadtest/locustfile.py --host http://127.0.0.1:8000 \\
        [OnSaleUser] [BurstUser] --headless -u 100 -r 20 -t 60s --csv results/run

Two kinds of simulated customer (pick with the class names; both by default):
- OnSaleUser: the steady mix of an on-sale, weighted as in `mix.FLOWS` — browsing and searching
  (most traffic), seat maps, purchases (hold → book → pay with the local provider → wait for the
  confirmation → tickets), abandoned holds and cancellations.
- BurstUser: the crowd at one event's on-sale, through its waiting room (the setup step turns it
  on): every BurstUser logs in, joins the queue at once (those spawned before the opening are
  drawn in a random order at it, later ones queue in order), polls at the pace the room asks
  (Retry-After) and, once admitted, goes for the best seats with its admission token; contested
  seats answer 409 and the customer tries other seats. Without a room (a fixture of an older
  setup) the crowd waits until everyone has arrived and then all go at once.
With both classes, three in four users are OnSaleUsers.

Accounts and events come from the setup step (`ticketing-loadtest prepare`); every user logs in
once in on_start. Requests are grouped by flow: `[flow] /path/[id]`. A 409 on a contested seat
is an expected answer; a 5xx, a timeout or any other surprise is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import gevent
import redis
from gevent.event import Event
from locust import FastHttpUser, between, events
from locust.env import Environment
from locust.exception import StopUser
from ticketing_devkit.stack import REDIS as STACK_REDIS

from ticketing_loadtest.choices import (
    SeatChoice,
    booking_to_cancel,
    payment_outcome,
    pick_seats,
    require_loopback,
    search_query,
    seats_wanted,
)
from ticketing_loadtest.mix import locust_weights
from ticketing_loadtest.room import Records, Visit, admission_claims, sequence_of

WEIGHTS = locust_weights()
SETTLED = ("confirmed", "failed", "cancelled", "expired", "refunded")
LOGIN_ATTEMPTS = 3
SPAWNED = Event()  # every user of this process has been started


class Run:
    """What every user of this process shares: the accounts, the events, the options."""

    accounts: list[dict[str, str]] = []
    account_numbers = itertools.count()
    events: dict[str, str] = {}
    payment_failure_ratio = 0.05
    onsale_wait_s = 120.0
    confirm_wait_s = 10.0
    think_time = (0.5, 2.0)
    crowd_started = 0  # BurstUsers of this process that began logging in
    crowd_arrived = 0  # ... and are logged in, waiting for the sale to open
    room: Records | None = None  # the burst event's waiting room, when it has one
    csv_prefix: str | None = None
    room_redis_url = STACK_REDIS
    sampling = False  # this process reads the room's count of shoppers


def _arguments(parser: Any) -> None:
    parser.add_argument("--accounts-file", default=".loadtest/accounts.json")
    parser.add_argument("--fixture-file", default=".loadtest/fixture.json")
    parser.add_argument("--payment-failure-ratio", type=float, default=0.05)
    parser.add_argument(
        "--onsale-wait", type=float, default=120.0, help="longest BurstUser wait for the crowd"
    )
    parser.add_argument(
        "--confirm-wait", type=float, default=10.0, help="how long a buyer waits for confirmation"
    )
    parser.add_argument(
        "--room-redis-url",
        default=STACK_REDIS,
        help="the gateway's Redis, read (never written) for how many shop at once",
    )
    parser.add_argument(
        "--think-time",
        default="0.5,2",
        help="seconds an OnSaleUser pauses between flows: MIN,MAX (0,0 finds the ceiling)",
    )


def _load(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None:
        return
    Run.payment_failure_ratio = options.payment_failure_ratio
    Run.onsale_wait_s = options.onsale_wait
    Run.confirm_wait_s = options.confirm_wait
    low, high = (float(x) for x in options.think_time.split(","))
    Run.think_time = (low, high)
    runner = environment.runner
    if runner is not None and type(runner).__name__ == "MasterRunner":
        return  # the master sends no requests; its workers read the files on their machines
    accounts, fixture = Path(options.accounts_file), Path(options.fixture_file)
    if not accounts.exists() or not fixture.exists():
        raise SystemExit(
            f"{accounts} or {fixture} is missing: run `ticketing-loadtest prepare` first"
        )
    Run.accounts = json.loads(accounts.read_text())
    loaded = json.loads(fixture.read_text())
    Run.events = loaded["events"]
    if loaded.get("waiting_room"):
        Run.room = Records(loaded["waiting_room"])
    Run.csv_prefix = getattr(options, "csv_prefix", None)
    Run.room_redis_url = options.room_redis_url
    # Workers on other machines start at different accounts, so users rarely share one.
    Run.account_numbers = itertools.count(getattr(runner, "worker_index", 0) * 7919)


def _all_spawned(**_: Any) -> None:
    SPAWNED.set()


def _count_shoppers(**_: Any) -> None:
    """How many the room has shopping at once, from its own state: the gateway's Redis, read
    every quarter second while the run lasts (one process of the run does it)."""
    room = Run.room
    if room is None or Run.sampling:
        return
    Run.sampling = True
    shopping_key = f"wr:{{{Run.events['burst']}}}:act"

    def sample() -> None:
        client = redis.Redis.from_url(Run.room_redis_url, socket_timeout=1)
        try:
            while True:
                now = time.time()
                try:
                    count = int(client.zcount(shopping_key, int(now * 1e6), "+inf"))
                except redis.RedisError:
                    return  # not this machine's stack: the report says so
                room.shopping_samples.append((now, count))
                gevent.sleep(0.25)
        finally:
            client.close()

    gevent.spawn(sample)


def _write_room_records(**_: Any) -> None:
    """This process's customers' way through the room, for the run's report (room.py)."""
    if Run.room is not None and Run.csv_prefix and Run.room.visits:
        Run.room.write(Path(f"{Run.csv_prefix}_room-{os.getpid()}.json"))


# Locust's EventHook.add_listener carries no annotations.
events.init_command_line_parser.add_listener(_arguments)  # type: ignore[no-untyped-call]
events.init.add_listener(_load)  # type: ignore[no-untyped-call]
events.spawning_complete.add_listener(_all_spawned)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_count_shoppers)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_write_room_records)  # type: ignore[no-untyped-call]


class Customer(FastHttpUser):
    """A logged-in customer; the request helpers check every answer."""

    abstract = True
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        require_loopback(self.host or "")
        self.rng = random.Random()  # noqa: S311 - simulated choices, not secrets
        self.auth: dict[str, str] = {}
        account = Run.accounts[next(Run.account_numbers) % len(Run.accounts)]
        credentials = {"email": account["email"], "password": account["password"]}
        for attempt in range(LOGIN_ATTEMPTS):
            if attempt:
                gevent.sleep(self.rng.uniform(2, 5))  # a person tries again after a moment
            status, body = self.call(
                "POST", "/api/v1/auth/login", "[login] /api/v1/auth/login", json=credentials
            )
            if status == 200 and body:
                break
        else:
            raise StopUser()
        self.auth = {"Authorization": f"Bearer {body['access_token']}"}

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        ok: tuple[int, ...] = (200,),
        expected: tuple[int, ...] = (),
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One request; `ok` and `expected` answers count as successes, anything else (5xx,
        429, timeouts, other 4xx) as a failure. Returns the status and the decoded body."""
        self.count_inventory(path)
        with self.client.request(
            method,
            path,
            name=name,
            json=json,
            headers={**self.auth, **(headers or {})},
            catch_response=True,
        ) as response:
            status = response.status_code or 0
            if status in ok or status in expected:
                response.success()
                try:
                    return status, response.json() if response.text else None
                except ValueError:
                    response.failure(f"{status} with a body that is not JSON")
                    return status, None
            detail = (response.text or str(response.error or ""))[:200]
            response.failure(f"{status}: {detail}")
            return status, None

    # --- the flows -----------------------------------------------------------------------------

    def browse(self) -> None:
        params = "limit=20"
        if self.rng.random() < 0.3:
            params += "&city=" + self.rng.choice(("London", "Berlin", "San%20Francisco"))
        _, page = self.call("GET", f"/api/v1/events?{params}", "[browse] /api/v1/events")
        items = (page or {}).get("items") or []
        for event in self.rng.sample(items, min(2, len(items))):
            self.call("GET", f"/api/v1/events/{event['event_id']}", "[browse] /api/v1/events/[id]")

    def search(self) -> None:
        query = search_query(self.rng)
        prefix = query["q"][:3]
        self.call("GET", f"/api/v1/search/suggest?q={prefix}", "[search] /api/v1/search/suggest")
        path = "/api/v1/search/events?" + "&".join(
            f"{k}={v.replace(' ', '%20')}" for k, v in query.items()
        )
        _, found = self.call("GET", path, "[search] /api/v1/search/events")
        items = (found or {}).get("items") or []
        if items:
            event_id = self.rng.choice(items)["event_id"]
            self.call("GET", f"/api/v1/events/{event_id}", "[search] /api/v1/events/[id]")

    def seatmap(self) -> None:
        event_id = self.shop()
        self.call(
            "GET", f"/api/v1/events/{event_id}/seatmap", "[seatmap] /api/v1/events/[id]/seatmap"
        )
        self.call(
            "GET",
            f"/api/v1/inventory/events/{event_id}/availability",
            "[seatmap] /api/v1/inventory/events/[id]/availability",
        )

    def purchase(
        self, event_id: str | None = None, flow: str = "purchase", front_rows: int = 0
    ) -> str:
        """Seat map → hold (other seats after a 409) → booking → payment → confirmation →
        tickets. Returns `sold-out`, `contested` (every try refused) or the booking's status."""
        event_id = event_id or self.shop()
        hold = self.hold(event_id, flow, front_rows)
        if hold is None:
            return "sold-out"
        if not hold:
            return "contested"
        status, booking = self.call(
            "POST",
            "/api/v1/bookings",
            f"[{flow}] /api/v1/bookings",
            ok=(201,),
            json={"hold_id": hold["hold_id"]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if status != 201 or not booking or not booking.get("payment"):
            return "not-booked"
        outcome = payment_outcome(self.rng, Run.payment_failure_ratio)
        self.call(
            "POST",
            f"/api/v1/payments/{booking['payment']['payment_id']}/simulate",
            f"[{flow}] /api/v1/payments/[id]/simulate",
            ok=(202,),
            json={"outcome": outcome},
        )
        settled = self.await_settled(booking["booking_id"], flow)
        if settled == "confirmed":
            self.call(
                "GET",
                f"/api/v1/bookings/{booking['booking_id']}/tickets",
                f"[{flow}] /api/v1/bookings/[id]/tickets",
            )
        return settled

    def abandon(self) -> None:
        """Holds seats, then thinks better of it and lets them go."""
        hold = self.hold(self.shop(), "abandon", 0, tries=1)
        if hold:
            self.call(
                "DELETE",
                f"/api/v1/inventory/holds/{hold['hold_id']}",
                "[abandon] /api/v1/inventory/holds/[id]",
                ok=(204,),
            )

    def cancel(self) -> None:
        _, page = self.call("GET", "/api/v1/bookings?limit=20", "[cancel] /api/v1/bookings")
        booking_id = booking_to_cancel(page or {}, self.rng)
        if booking_id:
            # 409: the booking moved on meanwhile (its payment is being confirmed, or it
            # expired) — an answer the API documents, not a failure.
            self.call(
                "POST",
                f"/api/v1/bookings/{booking_id}/cancel",
                "[cancel] /api/v1/bookings/[id]/cancel",
                expected=(409,),
            )

    # --- steps ---------------------------------------------------------------------------------

    def shop(self) -> str:
        """The event a customer buys for: mostly the steady on-sale, sometimes the burst one
        (unless its waiting room guards it: that crowd is the BurstUsers')."""
        if Run.room is None and self.rng.random() < 0.2:
            return Run.events["burst"]
        return Run.events["steady"]

    def hold(
        self, event_id: str, flow: str, front_rows: int, tries: int = 3
    ) -> dict[str, Any] | None:
        """A hold on seats the seat map shows free: the hold, {} when every try was contested,
        None when nothing is left."""
        _, seatmap = self.call(
            "GET", f"/api/v1/events/{event_id}/seatmap", f"[{flow}] /api/v1/events/[id]/seatmap"
        )
        if not seatmap:
            return {}
        refused: set[str] = set()
        for _ in range(tries):
            choice = pick_seats(
                seatmap,
                seats_wanted(self.rng),
                self.rng,
                front_rows=front_rows,
                exclude=frozenset(refused),
            )
            if choice is None:
                return None
            status, body = self.post_hold(event_id, choice, flow)
            if status == 201:
                hold: dict[str, Any] = body
                return hold
            refused.update((body or {}).get("unavailable") or choice.seat_ids)
        return {}

    def count_inventory(self, path: str) -> None:
        """Inventory's load during the burst: its own paths, and the seat map (one inventory
        read each)."""
        if Run.room is not None and (path.startswith("/api/v1/inventory/") or "/seatmap" in path):
            Run.room.inventory_calls.append(time.time())

    def post_hold(self, event_id: str, choice: SeatChoice, flow: str) -> tuple[int, Any]:
        self.count_inventory("/api/v1/inventory/")
        with self.client.request(
            "POST",
            f"/api/v1/inventory/events/{event_id}/holds",
            name=f"[{flow}] /api/v1/inventory/events/[id]/holds",
            json=choice.body(),
            headers=self.auth,
            catch_response=True,
        ) as response:
            status = response.status_code or 0
            body = _json(response.text)
            if status == 201:
                response.success()
            elif status == 409:
                # Someone was faster (seats-unavailable), or this customer holds enough
                # already (too-many-holds): the answers an on-sale is made of. Reported as a
                # row of its own, so a run shows how contested the seats were.
                response.request_meta["name"] += " (409 contested)"
                response.success()
            else:
                response.failure(f"{status}: {(response.text or str(response.error))[:200]}")
            return status, body

    def await_settled(self, booking_id: str, flow: str) -> str:
        """Polls the booking until the payment's outcome has been applied (or gives up)."""
        deadline = time.monotonic() + Run.confirm_wait_s
        status = "pending_payment"
        while time.monotonic() < deadline:
            gevent.sleep(0.5)
            _, booking = self.call(
                "GET", f"/api/v1/bookings/{booking_id}", f"[{flow}] /api/v1/bookings/[id]"
            )
            status = (booking or {}).get("status", status)
            if status in SETTLED:
                break
        return status


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


class OnSaleUser(Customer):
    """The steady mix of an on-sale (weights: mix.FLOWS)."""

    weight = 3

    def wait_time(self) -> float:
        return self.rng.uniform(*Run.think_time)

    # A list with each flow repeated by its weight: Locust picks uniformly from it.
    tasks = [
        flow
        for flow, weight in (
            (Customer.browse, WEIGHTS["browse"]),
            (Customer.search, WEIGHTS["search"]),
            (Customer.seatmap, WEIGHTS["seatmap"]),
            (Customer.purchase, WEIGHTS["purchase"]),
            (Customer.abandon, WEIGHTS["abandon"]),
            (Customer.cancel, WEIGHTS["cancel"]),
        )
        for _ in range(weight)
    ]


class BurstUser(Customer):
    """One of the crowd at the `burst` event's on-sale."""

    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.done = False
        self.visit: Visit | None = None
        Run.crowd_started += 1
        try:
            super().on_start()
        except StopUser:
            Run.crowd_started -= 1  # could not log in: the crowd does not wait for them
            raise
        Run.crowd_arrived += 1
        if Run.room is not None:
            self.queue()
            return
        # No room: the sale opens when the whole crowd is spawned and logged in; everyone goes
        # at the same moment (bounded by --onsale-wait).
        deadline = time.monotonic() + Run.onsale_wait_s
        while time.monotonic() < deadline and not (
            SPAWNED.is_set() and Run.crowd_arrived >= Run.crowd_started
        ):
            gevent.sleep(0.05)

    def queue(self) -> None:
        """Join the room, poll when it says (Retry-After), until admitted."""
        assert Run.room is not None
        event_id = Run.events["burst"]
        opens = datetime.fromisoformat(Run.room.settings["opens_at"]).timestamp()
        visit = Visit(arrived_at=time.time(), early=time.time() < opens)
        Run.room.visits.append(visit)
        self.visit = visit
        path = f"/api/v1/waiting-room/{event_id}"
        _, state = self.call("POST", f"{path}/join", "[room] /api/v1/waiting-room/[id]/join")
        receipt: str | None = None
        while state and state["state"] == "waiting":
            receipt = state.get("receipt") or receipt
            gevent.sleep(float(state["poll_after_seconds"]))
            visit.polls += 1
            _, state = self.call(
                "GET",
                path,
                "[room] /api/v1/waiting-room/[id]",
                headers={"X-Queue-Receipt": receipt} if receipt else None,
            )
        if state and state["state"] == "admitted":
            claims = admission_claims(state["admission_token"])
            visit.admitted_seq = sequence_of(claims["jti"])
            visit.admitted_at = float(claims["iat"])
            visit.seen_admitted_at = time.time()
            visit.left_at = float(claims["exp"])  # unless they finish sooner
            self.auth["X-Admission-Token"] = state["admission_token"]

    def call(self, method: str, path: str, name: str, **kwargs: Any) -> tuple[int, Any]:
        status, body = super().call(method, path, name, **kwargs)
        if (method, path, status) == ("POST", "/api/v1/bookings", 201) and self.visit is not None:
            self.visit.left_at = time.time()  # the booking ended the admission
        return status, body

    def go_for_tickets(self) -> None:
        """Buy once (trying again while seats are contested); afterwards, or once the event is
        sold out, keep refreshing its availability like a customer hoping for returns."""
        event_id = Run.events["burst"]
        if not self.done:
            outcome = self.purchase(event_id, flow="onsale", front_rows=3)
            self.done = outcome != "contested"
            if self.done and self.visit is not None and self.visit.admitted_seq is not None:
                if outcome in ("sold-out", "not-booked"):
                    self.visit.left_at = time.time()
                    # Nothing to buy: give the shopping slot back to the queue.
                    self.visit.outcome = "gave-up"
                    self.call(
                        "DELETE",
                        f"/api/v1/waiting-room/{event_id}",
                        "[room] /api/v1/waiting-room/[id] (leave)",
                        ok=(204,),
                    )
                else:
                    self.visit.outcome = "booked"  # booking ended the admission
            return
        self.call(
            "GET",
            f"/api/v1/inventory/events/{event_id}/availability",
            "[onsale] /api/v1/inventory/events/[id]/availability",
        )

    tasks = [go_for_tickets]
