"""Crashes, races and a randomized run: whatever happens, every paid booking ends confirmed with
its seats, or refunded; no seat is sold to two bookings."""

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from redis import Redis
from ticketing_devkit.pytest_plugin import bearer

HOLD_TTL_S = 6  # as conftest gives inventory


def test_booking_killed_mid_saga_converges_after_restart(
    platform, booking, inventory, organizer
) -> None:
    event_id = platform.event(organizer[1])["event_id"]
    _, token = platform.user()
    bookings = [
        platform.booked(token, platform.hold_id(token, event_id, [f"A-1-{n}"])) for n in range(1, 5)
    ]
    # Inventory stops answering: booking records each payment, then stalls on confirming it.
    os.kill(inventory.process.pid, signal.SIGSTOP)
    try:
        for item in bookings:
            assert platform.simulate(token, item, "succeeded").status_code == 202
        time.sleep(2.0)
        booking.kill()  # mid-saga: payments recorded, seats not yet sold, messages unacknowledged
    finally:
        os.kill(inventory.process.pid, signal.SIGCONT)
    assert all(platform.payment_status(token, item) == "succeeded" for item in bookings)
    booking.start()  # a new consumer takes the dead one's messages over
    for item in bookings:
        platform.wait_for(token, item["booking_id"], "confirmed", timeout_s=30)
    seats = platform.seats(event_id)
    assert all(seats[f"A-1-{n}"] == "sold" for n in range(1, 5))
    assert sorted(s["booking_id"] for s in platform.sold(event_id)) == sorted(
        item["booking_id"] for item in bookings
    )


def test_invariant_after_a_randomized_run_with_failures(
    platform, booking, organizer, redis_url
) -> None:
    event_id = platform.event(organizer[1], rows=20, seats=20)["event_id"]
    seat_ids = [f"A-{r}-{n}" for r in range(1, 21) for n in range(1, 21)]
    people = [platform.user() for _ in range(12)]
    webhook_url = platform.url("payment", "/api/v1/payments/webhooks/stripe")
    made: list[tuple[str, dict[str, Any]]] = []
    late: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    codes: dict[str, int] = {}
    attempts = 340  # about 220 bookings: the rest lose the race for their seats
    client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=16))

    def post(url: str, **kwargs: Any) -> httpx.Response:
        """Like a client that retries while booking is restarting (bounded)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return client.post(url, **kwargs)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def one(index: int) -> None:
        local = random.Random(index)
        _, token = people[local.randrange(len(people))]
        seats = local.sample(seat_ids, local.choice((1, 1, 2)))
        try:
            hold = client.post(
                platform.url("inventory", f"/api/v1/inventory/events/{event_id}/holds"),
                json={"seat_ids": seats},
                headers=bearer(token),
            )
            with lock:
                codes[f"hold {hold.status_code}"] = codes.get(f"hold {hold.status_code}", 0) + 1
            if hold.status_code != 201:
                return  # taken: contention is part of the run
            response = post(
                platform.url("booking", "/api/v1/bookings"),
                json={"hold_id": hold.json()["hold_id"]},
                headers=bearer(token) | {"Idempotency-Key": f"run-{index}"},
            )
        except httpx.TransportError:
            return  # booking was down (killed below)
        with lock:
            codes[f"book {response.status_code}"] = codes.get(f"book {response.status_code}", 0) + 1
        if response.status_code != 201:
            return
        made_booking = response.json()
        with lock:
            made.append((token, made_booking))
        if made_booking["payment"] is None:
            return
        roll = local.random()
        path = f"/api/v1/payments/{made_booking['payment']['payment_id']}/simulate"
        try:
            if roll < 0.55:
                post(
                    platform.url("payment", path),
                    json={"outcome": "succeeded"},
                    headers=bearer(token),
                )
            elif roll < 0.65:
                post(
                    platform.url("payment", path), json={"outcome": "failed"}, headers=bearer(token)
                )
                if local.random() < 0.5:  # the customer tries another card
                    post(
                        platform.url("payment", path),
                        json={"outcome": "succeeded"},
                        headers=bearer(token),
                    )
            elif roll < 0.75:  # Stripe delivers the success twice, concurrently
                replay = platform.signed_success(made_booking)
                with ThreadPoolExecutor(2) as pool:
                    list(
                        pool.map(
                            lambda _: post(webhook_url, content=replay[0], headers=replay[1]),
                            range(2),
                        )
                    )
            elif roll < 0.83:  # cancel, and a payment arrives anyway half the time
                client.post(
                    platform.url(
                        "booking", f"/api/v1/bookings/{made_booking['booking_id']}/cancel"
                    ),
                    headers=bearer(token),
                )
                if local.random() < 0.5:
                    post(
                        platform.url("payment", path),
                        json={"outcome": "succeeded"},
                        headers=bearer(token),
                    )
            elif roll < 0.9:  # pays after the hold expired
                with lock:
                    late.append((token, made_booking))
            elif roll < 0.95:  # pays, then cancels (refund) while the confirmation may be running
                post(
                    platform.url("payment", path),
                    json={"outcome": "succeeded"},
                    headers=bearer(token),
                )
                client.post(
                    platform.url(
                        "booking", f"/api/v1/bookings/{made_booking['booking_id']}/cancel"
                    ),
                    headers=bearer(token),
                )
            # else: abandoned, it expires
        except httpx.TransportError:
            return

    def crash_booking_midway() -> None:
        time.sleep(6)
        booking.kill()
        time.sleep(1)
        booking.start()

    crasher = threading.Thread(target=crash_booking_midway)
    crasher.start()
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(one, range(attempts)))
    crasher.join()
    time.sleep(HOLD_TTL_S + 1)
    for token, late_booking in late:
        path = f"/api/v1/payments/{late_booking['payment']['payment_id']}/simulate"
        client.post(
            platform.url("payment", path), json={"outcome": "succeeded"}, headers=bearer(token)
        )
    client.close()
    assert len(made) >= 200, (len(made), codes)

    # Converged: no booking is still deciding what to do with a payment.
    def settled(state: tuple[dict[str, Any], str | None]) -> bool:
        booking_state, payment_status = state
        if booking_state["status"] == "pending_payment":
            return False
        if payment_status == "succeeded":
            return booking_state["status"] == "confirmed"
        return True

    states = {b["booking_id"]: (b, None) for _, b in made}
    tokens = {b["booking_id"]: token for token, b in made}
    waiting = set(states)
    deadline = time.monotonic() + 120
    while waiting and time.monotonic() < deadline:
        for booking_id in sorted(waiting):
            booking_state = platform.get(tokens[booking_id], booking_id)
            states[booking_id] = (
                booking_state,
                _payment(platform, tokens[booking_id], booking_state),
            )
            if settled(states[booking_id]):
                waiting.discard(booking_id)
        if waiting:
            time.sleep(2)
    assert not waiting, [states[b] for b in list(waiting)[:5]]

    sold = platform.sold(event_id)
    owners: dict[str, str] = {}
    for entry in sold:
        for seat in entry["seat_ids"]:
            assert seat not in owners, f"{seat} sold to {owners[seat]} and {entry['booking_id']}"
            owners[seat] = entry["booking_id"]
    by_id = {entry["booking_id"]: entry for entry in sold}
    inventory_seats = platform.seats(event_id)
    for booking_state, payment_status in states.values():
        if payment_status == "succeeded":
            assert booking_state["status"] == "confirmed", booking_state
            assert by_id[booking_state["booking_id"]]["seat_ids"] == booking_state["seat_ids"]
            assert all(inventory_seats[s] == "sold" for s in booking_state["seat_ids"])
        else:
            assert booking_state["status"] != "confirmed", (booking_state, payment_status)
            assert booking_state["booking_id"] not in by_id
    assert {s for s, status in inventory_seats.items() if status == "sold"} == set(owners)
    outcomes = {}
    for booking_state, payment_status in states.values():
        key = (booking_state["status"], payment_status)
        outcomes[key] = outcomes.get(key, 0) + 1
    print("outcomes", sorted(outcomes.items()))
    assert outcomes.get(("confirmed", "succeeded"), 0) > 20
    assert sum(n for (_, p), n in outcomes.items() if p == "refunded") > 5
    # Nothing converged by giving up: booking dead-lettered none of the facts it consumes.
    redis = Redis.from_url(redis_url)
    try:
        assert redis.xlen("deadletter:booking") == 0, redis.xrange("deadletter:booking")
    finally:
        redis.close()


def _payment(platform, token: str, booking: dict[str, Any]) -> str | None:
    if booking["payment"] is None:
        return None
    return platform.payment_status(token, booking)
