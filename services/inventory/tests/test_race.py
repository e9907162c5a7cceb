"""Thousands of clients at once over real HTTP: no seat is ever in two holds, every successful hold
owns exactly its seats, nothing of a refused hold sticks, and at every step available + held +
sold is each section's capacity. Standing capacity never goes below zero."""

import random
from collections import Counter
from typing import Any

CLIENTS = 2_000
SECTIONS = {"A": (10, 25), "B": (10, 25)}  # 500 seats
INTERNAL = {"X-Service-Token": "inventory-test-service-token"}


async def test_thousands_of_overlapping_seat_holds(inventory: Any) -> None:
    event = inventory.create_event(inventory.layout(SECTIONS))
    path = f"/api/v1/inventory/events/{event}/holds"
    rng = random.Random(20261126)
    wanted = inventory.overlapping_blocks(CLIENTS, rng)
    calls = [
        ("POST", path, inventory.auth(f"racer-{n}"), {"seat_ids": seats})
        for n, seats in enumerate(wanted)
    ]
    answers = await inventory.all_at_once(calls)

    assert Counter(status for status, _ in answers).keys() <= {201, 409}, Counter(
        status for status, _ in answers
    )
    holds = []
    owner: dict[str, str] = {}
    for seats, (status, body) in zip(wanted, answers, strict=True):
        if status == 201:
            assert body["seat_ids"] == seats
            holds.append(body)
            for seat in seats:
                assert seat not in owner, f"{seat} held by {owner[seat]} and {body['hold_id']}"
                owner[seat] = body["hold_id"]
        else:
            assert body["unavailable"], body
            assert set(body["unavailable"]) <= set(seats), body
    assert len(holds) > 50  # the race had winners...
    assert len(holds) < CLIENTS // 2  # ...and plenty of losers

    availability = inventory.availability(event, seats=True)
    assert inventory.seats_in(availability, "held") == set(owner)  # nothing of a refused hold stuck
    inventory.check_seat_counts(availability)
    for hold in holds:
        record = inventory.internal("GET", f"/holds/{hold['hold_id']}").json()
        assert (record["status"], record["seat_ids"]) == ("held", hold["seat_ids"])
        assert record["user_id"] == hold["user_id"]

    # Second wave, all at once: half the winners confirm, the other half release, and a thousand
    # new clients try for the same seats.
    confirmed, released = holds[::2], holds[1::2]
    wave = [
        ("POST", f"/internal/holds/{h['hold_id']}/confirm", INTERNAL, {"booking_id": f"bk-{n}"})
        for n, h in enumerate(confirmed)
    ]
    wave += [
        ("DELETE", f"/api/v1/inventory/holds/{h['hold_id']}", inventory.auth(h["user_id"]), None)
        for h in released
    ]
    newcomers = inventory.overlapping_blocks(1_000, rng)
    wave += [
        ("POST", path, inventory.auth(f"late-{n}"), {"seat_ids": seats})
        for n, seats in enumerate(newcomers)
    ]
    answers = await inventory.all_at_once(wave)
    n_confirmed, n_released = len(confirmed), len(released)
    assert all(status == 200 for status, _ in answers[:n_confirmed])
    assert all(status == 204 for status, _ in answers[n_confirmed : n_confirmed + n_released])
    sold = {seat for hold in confirmed for seat in hold["seat_ids"]}
    held_now: dict[str, str] = {}
    for seats, (status, body) in zip(newcomers, answers[n_confirmed + n_released :], strict=True):
        assert status in (201, 409), (status, body)
        if status == 201:
            for seat in seats:
                assert seat not in sold, seat
                assert seat not in held_now, seat
                held_now[seat] = body["hold_id"]
    availability = inventory.availability(event, seats=True)
    assert inventory.seats_in(availability, "sold") == sold
    assert inventory.seats_in(availability, "held") == set(held_now)
    inventory.check_seat_counts(availability)


async def test_thousands_of_standing_holds_never_oversell(inventory: Any) -> None:
    capacity = 300
    event = inventory.create_event(inventory.layout({}, {"GA": capacity}))
    path = f"/api/v1/inventory/events/{event}/holds"
    rng = random.Random(7)
    quantities = [rng.randint(1, 3) for _ in range(CLIENTS)]
    calls = [
        ("POST", path, inventory.auth(f"fan-{n}"), {"section_id": "GA", "quantity": q})
        for n, q in enumerate(quantities)
    ]
    answers = await inventory.all_at_once(calls)
    granted = 0
    smallest_refused = None
    for quantity, (status, body) in zip(quantities, answers, strict=True):
        assert status in (201, 409), (status, body)
        if status == 201:
            granted += quantity
        else:
            assert 0 <= body["available"] < quantity, body
            smallest_refused = min(smallest_refused or quantity, quantity)
    assert granted <= capacity
    ga = inventory.section(event, "GA")
    assert (ga["held"], ga["sold"], ga["available"]) == (granted, 0, capacity - granted)
    # Places only ever went down, so every refusal saw at least what is left now.
    assert smallest_refused is not None
    assert ga["available"] < smallest_refused
