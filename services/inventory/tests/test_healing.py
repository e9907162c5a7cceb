"""Inventory heals itself: a lost Redis is noticed and every event on sale is rebuilt from events
and booking (the `Truth` test server) without anyone asking; while an event rebuilds, requests
about it get 503 with Retry-After, never 404 and never a sold seat; a partial loss is repaired by
the reconciler. This module owns a Redis database of its own, so it can flush it."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis
from support import APP, INTERNAL, Inventory, Truth, service_env, wait_until_ready
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.pytest_plugin import assert_problem, eventually
from ticketing_devkit.stores import temporary_redis_db

LAYOUT = Inventory.layout({"A": (2, 5)}, {"GA": 20})


@pytest.fixture(scope="module")
def own_redis() -> Iterator[str]:
    with temporary_redis_db() as url:
        yield url


@pytest.fixture(scope="module")
def healing(own_redis: str, jwks_url: str) -> Iterator[tuple[Inventory, ServiceProcess]]:
    env = service_env(
        own_redis,
        jwks_url,
        HEAL_INTERVAL_S="0.1",
        EVENTS_REFRESH_S="0.5",
        RECONCILE_INTERVAL_S="0.3",
        RECONCILE_GRACE_S="0.6",
        REBUILD_RETRY_AFTER_S="1",
        MAX_ACTIVE_HOLDS_PER_USER="50",
    )
    with ServiceProcess(APP, env, name="inventory-healing") as process:
        wait_until_ready(process)
        yield Inventory(process.url), process


@pytest.fixture
def inv(healing: tuple[Inventory, ServiceProcess]) -> Inventory:
    return healing[0]


@pytest.fixture
def store(own_redis: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(own_redis)
    yield client
    client.close()


def on_sale(inv: Inventory, truth: Truth) -> str:
    """An event as events publishes it: inventory initialised, then known as on sale."""
    event = inv.create_event(LAYOUT)
    truth.on_sale(event, LAYOUT)
    return event


def sell(inv: Inventory, truth: Truth, event: str, user: str, seats: list[str]) -> str:
    """A paid booking: inventory confirms, booking's durable claims say so."""
    hold = inv.held(event, user, seat_ids=seats)
    booking = f"bk-{hold['hold_id'][:8]}"
    assert inv.confirm(hold["hold_id"], booking).status_code == 200
    truth.sell(event, booking, seats)
    return booking


def ready_status(process: ServiceProcess) -> dict[str, Any]:
    return httpx.get(f"{process.url}/ready").json()  # type: ignore[no-any-return]


def test_a_total_loss_is_rebuilt_unattended_and_never_shows_a_sold_seat(
    healing: tuple[Inventory, ServiceProcess], truth: Truth, store: redis.Redis
) -> None:
    inv, process = healing
    event = on_sale(inv, truth)
    sell(inv, truth, event, "ann", ["A-1-1", "A-1-2"])
    # A customer who booked and is paying: booking knows the hold its booking was made from.
    paying = inv.held(event, "bob", seat_ids=["A-1-3"])
    truth.sales_of(event)["holds"].append(
        {
            "hold_id": paying["hold_id"],
            "booking_id": "bk-paying",
            "user_id": "bob",
            "seat_ids": ["A-1-3"],
            "quantity": 1,
            "expires_at": paying["expires_at"],
        }
    )
    unbooked = inv.held(event, "cy", seat_ids=["A-1-4"])  # held, not booked: only in Redis

    truth.delay_s = 1.0  # booking answers slowly: the rebuild takes a second
    try:
        flushed = time.monotonic()
        store.flushdb()  # the whole cache is gone (this module's own database)
        # While it rebuilds: 503 with Retry-After, for holds and availability alike.
        for response in (
            inv.hold(event, "dan", seat_ids=["A-1-1"]),
            inv.http.get(f"/api/v1/inventory/events/{event}/availability"),
            inv.http.get(f"/api/v1/inventory/holds/{paying['hold_id']}", headers=inv.auth("bob")),
        ):
            body = assert_problem(response, 503)
            assert body["type"].endswith("/inventory-rebuilding")
            assert response.headers["retry-after"] == "1"
        ready = eventually(lambda: (r := ready_status(process))["status"] == "degraded" and r, 5)
        assert "rebuilding the state of 1 events" in ready["checks"]["state"]["detail"]
        availability = eventually(
            lambda: (
                (
                    r := inv.http.get(f"/api/v1/inventory/events/{event}/availability?seats=true")
                ).status_code
                == 200
                and r.json()
            )
        )
        took = time.monotonic() - flushed
    finally:
        truth.delay_s = 0.0
    assert took < 10, took
    seats = availability["seats"]
    assert (seats["A-1-1"], seats["A-1-2"]) == ("sold", "sold")  # from booking's claims
    assert seats["A-1-3"] == "held"  # the paying customer's hold came back
    assert seats["A-1-4"] == "available"  # an unbooked hold is lost with the cache
    inv.check_seat_counts(availability)
    assert_problem(inv.hold(event, "dan", seat_ids=["A-1-1"]), 409)
    assert_problem(inv.hold(event, "dan", seat_ids=["A-1-3"]), 409)
    # The restored hold is the customer's and confirms as usual when the payment lands.
    assert inv.http.get(
        f"/api/v1/inventory/holds/{paying['hold_id']}", headers=inv.auth("bob")
    ).json()["status"] == ("held")
    confirmed = inv.confirm(paying["hold_id"], "bk-paying")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["reclaimed"] is False
    assert_problem(inv.confirm(unbooked["hold_id"], "bk-never"), 404)
    eventually(lambda: ready_status(process)["status"] == "ready")


def test_the_flag_of_a_whole_loss_is_the_epoch_key(
    healing: tuple[Inventory, ServiceProcess], truth: Truth, store: redis.Redis
) -> None:
    inv, process = healing
    event = on_sale(inv, truth)
    eventually(lambda: store.get("inv:epoch"))
    store.delete("inv:epoch", *store.keys(f"inv:{{{event}}}:*"))
    eventually(lambda: inv.http.get(f"/api/v1/inventory/events/{event}/availability").is_success)
    eventually(lambda: store.get("inv:epoch"))
    assert "inventory's Redis lost its data" in process.logs()


def test_an_event_that_is_not_on_sale_is_still_unknown(inv: Inventory) -> None:
    body = assert_problem(inv.hold("evt-never-published", "ann", seat_ids=["A-1-1"]), 404)
    assert body["type"].endswith("/unknown-event")


def test_a_cancelled_event_comes_back_closed(
    inv: Inventory, truth: Truth, store: redis.Redis
) -> None:
    event = on_sale(inv, truth)
    truth.on_sale(event, LAYOUT, status="closed")
    store.delete(*store.keys(f"inv:{{{event}}}:*"))
    availability = eventually(
        lambda: (
            (r := inv.http.get(f"/api/v1/inventory/events/{event}/availability")).is_success
            and r.json()
        )
    )
    assert availability["status"] == "closed"


def test_a_lost_hold_is_confirmed_from_the_bookings_claim(
    inv: Inventory, truth: Truth, store: redis.Redis
) -> None:
    event = on_sale(inv, truth)
    hold = inv.held(event, "ann", seat_ids=["A-2-1", "A-2-2"])
    store.delete(f"inv:{{{event}}}:hold:{hold['hold_id']}")  # a partial loss took its record
    assert_problem(inv.confirm(hold["hold_id"], "bk-1"), 404)  # nothing to go on
    claim = {"user_id": "ann", "seat_ids": ["A-2-1", "A-2-2"], "quantity": 2}
    body = {"booking_id": "bk-1", "claim": claim}
    confirmed = inv.internal("POST", f"/holds/{hold['hold_id']}/confirm", json=body)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["seat_ids"] == ["A-2-1", "A-2-2"]
    again = inv.internal("POST", f"/holds/{hold['hold_id']}/confirm", json=body)
    assert again.status_code == 200  # idempotent
    seats = inv.availability(event, seats=True)["seats"]
    assert (seats["A-2-1"], seats["A-2-2"]) == ("sold", "sold")
    # A claim on seats someone else holds now is refused, not sold twice.
    lost = inv.held(event, "cy", seat_ids=["A-2-4"])
    # The whole hold is lost this time, its claim too: the seat looked free and dan took it.
    index = int(store.hget(f"inv:{{{event}}}:seat-index", "A-2-4") or 0) // 1024
    store.delete(f"inv:{{{event}}}:hold:{lost['hold_id']}")
    store.zrem(f"inv:{{{event}}}:claims", index)
    inv.held(event, "dan", seat_ids=["A-2-4"])
    claim = {"user_id": "cy", "seat_ids": ["A-2-4"], "quantity": 1}
    refused = inv.internal(
        "POST", f"/holds/{lost['hold_id']}/confirm", json={"booking_id": "bk-2", "claim": claim}
    )
    assert_problem(refused, 409)["type"].endswith("/seats-taken")
    standing = inv.held(event, "eve", section_id="GA", quantity=2)
    store.delete(f"inv:{{{event}}}:hold:{standing['hold_id']}")
    claim = {"user_id": "eve", "section_id": "GA", "quantity": 2}
    confirmed = inv.internal(
        "POST",
        f"/holds/{standing['hold_id']}/confirm",
        json={"booking_id": "bk-3", "claim": claim},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert inv.section(event, "GA")["sold"] == 2
    record = inv.internal("GET", f"/holds/{standing['hold_id']}").json()
    assert (record["status"], record["section_id"], record["seat_ids"]) == ("confirmed", "GA", [])


def test_the_reconciler_repairs_a_partial_loss_and_says_what_it_did(
    healing: tuple[Inventory, ServiceProcess], truth: Truth, store: redis.Redis
) -> None:
    inv, process = healing
    event = on_sale(inv, truth)
    kept = sell(inv, truth, event, "ann", ["A-1-1"])
    # 1. A confirmation lost in a failover: booking holds A-1-2 durably, inventory forgot.
    truth.sell(event, "bk-lost-confirm", ["A-1-2"])
    # 2. A sold bit lost (the sale record survived).
    index = int(store.hget(f"inv:{{{event}}}:seat-index", "A-1-1") or 0) // 1024
    store.setbit(f"inv:{{{event}}}:sold", index, 0)
    # 3. A refund whose release was lost: inventory still sells A-1-3 to a booking that holds
    #    nothing durably any more...
    extra = inv.held(event, "bob", seat_ids=["A-1-3"])
    inv.confirm(extra["hold_id"], "bk-refunded")
    # 4. ...and a payment being confirmed right now (booking says so): left alone.
    paying = inv.held(event, "cy", seat_ids=["A-1-4"])
    inv.confirm(paying["hold_id"], "bk-paying")
    truth.sales_of(event)["unsettled"].append("bk-paying")

    def statuses() -> tuple[str, ...]:
        seats = inv.availability(event, seats=True)["seats"]
        return tuple(seats[f"A-1-{n}"] for n in range(1, 5))

    eventually(lambda: statuses() == ("sold", "sold", "available", "sold"))
    availability = inv.availability(event, seats=True)
    inv.check_seat_counts(availability)
    logs = process.logs()
    assert "reconciler repaired an event's inventory" in logs
    assert "bk-lost-confirm" in logs
    assert "bk-refunded" in logs
    # Refunding the repaired sale works as for any sale.
    refund = {"booking_id": kept, "seat_ids": ["A-1-1"], "quantity": 1}
    released = inv.internal("POST", f"/events/{event}/release-sold", json=refund)
    assert released.json()["released_seat_ids"] == ["A-1-1"]


def _cli(own_redis: str, jwks_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = service_env(own_redis, jwks_url)
    return subprocess.run(
        [sys.executable, "-m", "ticketing_inventory", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_operators_rebuild_and_reconcile_from_the_command_line(truth: Truth, jwks_url: str) -> None:
    """Against a Redis no service watches, so that only the commands change it."""
    event = Inventory.new_event_id()
    truth.on_sale(event, LAYOUT)
    truth.sell(event, "bk-a", ["A-2-5"])
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    hold_id = f"{'h' * 22}.{event}"
    truth.sales_of(event)["holds"].append(
        {
            "hold_id": hold_id,
            "booking_id": "bk-b",
            "user_id": "bob",
            "seat_ids": ["A-2-4"],
            "quantity": 1,
            "expires_at": soon,
        }
    )
    with temporary_redis_db() as url:
        store = redis.Redis.from_url(url)
        result = _cli(url, jwks_url, "rebuild", "--event", event)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"[1/1] {event}: rebuilt (open)" in result.stdout
        assert "1 sold, 1 holds of pending bookings restored" in result.stdout
        assert store.hkeys(f"inv:{{{event}}}:sales") == [b"bk-a"]
        assert store.hget(f"inv:{{{event}}}:hold:{hold_id}", "status") == b"held"

        truth.sell(event, "bk-forgotten", ["A-2-3"])
        result = _cli(url, jwks_url, "reconcile", "--event", event)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"[1/1] {event}: 1 missing sales added" in result.stdout
        assert sorted(store.hkeys(f"inv:{{{event}}}:sales")) == [b"bk-a", b"bk-forgotten"]
        everything = _cli(url, jwks_url, "rebuild", "--all")
        assert everything.returncode == 0, everything.stdout + everything.stderr
        assert f"rebuild: {len(truth.events)} event(s)" in everything.stdout
        unknown = _cli(url, jwks_url, "rebuild", "--event", "evt-nope")
        assert unknown.returncode == 1
        assert "never went on sale" in unknown.stdout
        store.close()


def test_internal_confirm_needs_a_well_formed_claim(inv: Inventory) -> None:
    body = {"booking_id": "b", "claim": {"user_id": "u", "quantity": 0}}
    assert_problem(inv.http.post("/internal/holds/x/confirm", json=body, headers=INTERNAL), 422)
