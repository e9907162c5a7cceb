"""Money and tickets converge when Redis loses data: inventory's state, bus messages in flight.
The truth is in payment's and booking's stores; inventory and the bus are rebuilt around it."""

import os
import signal
import time
from typing import Any

import pytest
from redis import Redis


@pytest.fixture
def store(redis_url: str) -> Any:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


def forget_event(store: Redis, event_id: str) -> None:
    """What a failover that lost the event's keys leaves: nothing of it in inventory."""
    store.delete(*store.keys(f"inv:{{{event_id}}}:*"))


def test_a_payment_whose_fact_was_lost_still_confirms_the_booking(
    platform, booking, customer, event, store
) -> None:
    _, token = customer
    made = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-1"]))
    booking.kill()  # nobody consumes: the fact waits in the stream...
    try:
        assert platform.simulate(token, made, "succeeded").status_code == 202
        deadline = time.monotonic() + 10
        while platform.payment_status(token, made) != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.5)  # payment's outbox relay has published it by now
        assert store.xlen("facts:payment") > 0
        store.delete("facts:payment")  # ...and is lost with the bus's Redis
    finally:
        booking.start()
    # Booking reads payment's store: the booking is confirmed all the same (re-claiming its
    # seat if its short test hold ran out meanwhile).
    platform.wait_for(token, made["booking_id"], "confirmed", timeout_s=30)
    platform.wait_for_seat(event["event_id"], "A-2-1", "sold")
    # The consumer recreated the stream and its group: facts flow again.
    other = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-2"]))
    assert platform.simulate(token, other, "succeeded").status_code == 202
    platform.wait_for(token, other["booking_id"], "confirmed", timeout_s=30)


def test_cancelling_a_paid_booking_refunds_it_at_once_whatever_inventory_says(
    platform, inventory, customer, event
) -> None:
    _, token = customer
    made = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-1-5"]))
    assert platform.simulate(token, made, "succeeded").status_code == 202
    platform.wait_for(token, made["booking_id"], "confirmed")
    os.kill(inventory.process.pid, signal.SIGSTOP)  # inventory cannot answer
    try:
        cancel = platform.http.post(
            platform.url("booking", f"/api/v1/bookings/{made['booking_id']}/cancel"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert cancel.status_code == 200, cancel.text
        assert cancel.json()["status"] == "refunded"
        tickets = platform.http.get(
            platform.url("booking", f"/api/v1/bookings/{made['booking_id']}/tickets"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert tickets.status_code == 409  # the tickets are void
        assert platform.payment_status(token, made) in ("refunded", "succeeded")
        assert made["booking_id"] not in [s["booking_id"] for s in platform.sold(event["event_id"])]
    finally:
        os.kill(inventory.process.pid, signal.SIGCONT)
    # Inventory never heard; its reconciler sees booking no longer holds the seat.
    platform.wait_for_seat(event["event_id"], "A-1-5", "available", timeout_s=20)


def test_a_payment_after_inventory_lost_the_event_confirms_the_pending_booking(
    platform, customer, event, store
) -> None:
    _, token = customer
    made = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-4", "A-2-5"]))
    forget_event(store, event["event_id"])  # holds, sales, layout: all gone
    assert platform.simulate(token, made, "succeeded").status_code == 202
    confirmed = platform.wait_for(token, made["booking_id"], "confirmed", "failed", timeout_s=30)
    assert confirmed["status"] == "confirmed", confirmed
    seats = platform.seats(event["event_id"])
    assert (seats["A-2-4"], seats["A-2-5"]) == ("sold", "sold")
    assert platform.payment_status(token, made) == "succeeded"  # no refund


def test_inventory_rebuilds_a_lost_event_from_bookings_sales(
    platform, customer, event, store
) -> None:
    _, token = customer
    paid = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-1-1"]))
    assert platform.simulate(token, paid, "succeeded").status_code == 202
    platform.wait_for(token, paid["booking_id"], "confirmed")
    waiting = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-1-2"]))
    forget_event(store, event["event_id"])
    deadline = time.monotonic() + 15
    while True:
        response = platform.http.get(
            platform.url("inventory", f"/api/v1/inventory/events/{event['event_id']}/availability"),
            params={"seats": "true"},
        )
        if response.status_code == 200:
            break
        assert response.status_code == 503, response.text  # never 404, never "all free"
        assert response.headers["retry-after"]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    seats = response.json()["seats"]
    assert seats["A-1-1"] == "sold"  # from booking's durable claims
    assert seats["A-1-2"] == "held"  # the booking awaiting its payment keeps its seat
    assert platform.simulate(token, waiting, "succeeded").status_code == 202
    platform.wait_for(token, waiting["booking_id"], "confirmed")
