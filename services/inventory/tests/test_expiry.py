"""Expiry with one-second holds and no sweeper: an expired hold is free at every read and every
hold attempt, on time, and a confirm after expiry re-claims free seats or fails clearly."""

import time
from datetime import datetime
from typing import Any

import pytest
from ticketing_devkit.pytest_plugin import assert_problem


def _wait_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.time()))


def _expiry(hold: dict[str, Any]) -> float:
    return datetime.fromisoformat(hold["expires_at"]).timestamp()


@pytest.fixture
def event(short_ttl: Any) -> str:
    return short_ttl.create_event(short_ttl.layout({"A": (2, 10)}, {"GA": 5}))


def test_seats_are_free_the_moment_the_hold_expires(short_ttl: Any, event: str) -> None:
    hold = short_ttl.held(event, "ann", seat_ids=["A-1-1", "A-1-2"])
    expires = _expiry(hold)
    assert 0.8 < expires - time.time() <= 1.05
    assert_problem(short_ttl.hold(event, "bob", seat_ids=["A-1-2"]), 409)

    _wait_until(expires - 0.35)
    before = short_ttl.availability(event, seats=True)
    assert before["seats"]["A-1-1"] == "held"
    assert short_ttl.section(event, "A")["held"] == 2

    _wait_until(expires + 0.05)
    after = short_ttl.availability(event, seats=True)
    short_ttl.assert_counts_add_up(after)
    a = next(s for s in after["sections"] if s["section_id"] == "A")
    assert (a["held"], a["available"]) == (0, 20)
    assert after["seats"]["A-1-1"] == after["seats"]["A-1-2"] == "available"
    owner_view = short_ttl.http.get(
        f"/api/v1/inventory/holds/{hold['hold_id']}", headers=short_ttl.auth("ann")
    ).json()
    assert owner_view["status"] == "expired"

    # A new hold takes the expired seats over at once, and they count as held again.
    short_ttl.held(event, "bob", seat_ids=["A-1-2", "A-1-3"])
    assert short_ttl.section(event, "A")["held"] == 2
    short_ttl.assert_counts_add_up(short_ttl.availability(event))


def test_expired_standing_places_come_back_on_time(short_ttl: Any, event: str) -> None:
    hold = short_ttl.held(event, "ann", section_id="GA", quantity=5)
    assert_problem(short_ttl.hold(event, "bob", section_id="GA", quantity=1), 409)
    _wait_until(_expiry(hold) + 0.05)
    ga = short_ttl.section(event, "GA")
    assert (ga["available"], ga["held"]) == (5, 0)
    short_ttl.held(event, "bob", section_id="GA", quantity=5)


def test_confirm_after_expiry_reclaims_seats_that_are_still_free(
    short_ttl: Any, event: str
) -> None:
    hold = short_ttl.held(event, "ann", seat_ids=["A-2-1", "A-2-2"])
    _wait_until(_expiry(hold) + 0.05)
    confirmed = short_ttl.confirm(hold["hold_id"], "bk-late")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["reclaimed"] is True
    a = short_ttl.section(event, "A")
    assert (a["sold"], a["held"]) == (2, 0)
    assert short_ttl.confirm(hold["hold_id"], "bk-late").json()["reclaimed"] is True  # idempotent


def test_confirm_after_expiry_fails_when_a_seat_was_taken(short_ttl: Any, event: str) -> None:
    hold = short_ttl.held(event, "ann", seat_ids=["A-2-3", "A-2-4", "A-2-5"])
    _wait_until(_expiry(hold) + 0.05)
    taker = short_ttl.held(event, "bob", seat_ids=["A-2-4"])
    body = assert_problem(short_ttl.confirm(hold["hold_id"], "bk-too-late"), 409)
    assert body["type"].endswith("/seats-taken")
    assert body["unavailable"] == ["A-2-4"]
    seats = short_ttl.availability(event, seats=True)["seats"]
    assert [seats[s] for s in ("A-2-3", "A-2-4", "A-2-5")] == ["available", "held", "available"]
    # Releasing the expired hold must not free the seat that now belongs to someone else.
    assert short_ttl.release(hold["hold_id"], "ann").status_code == 204
    assert short_ttl.availability(event, seats=True)["seats"]["A-2-4"] == "held"
    assert short_ttl.confirm(taker["hold_id"], "bk-bob").status_code == 200


def test_standing_confirm_after_expiry_both_ways(short_ttl: Any, event: str) -> None:
    free = short_ttl.held(event, "ann", section_id="GA", quantity=2)
    lost = short_ttl.held(event, "bob", section_id="GA", quantity=3)
    _wait_until(_expiry(lost) + 0.05)
    short_ttl.held(event, "cy", section_id="GA", quantity=3)  # 2 places stay free
    assert short_ttl.confirm(free["hold_id"], "bk-free").json()["reclaimed"] is True
    body = assert_problem(short_ttl.confirm(lost["hold_id"], "bk-lost"), 409)
    assert body["unavailable"] == ["GA"]
    ga = short_ttl.section(event, "GA")
    assert (ga["sold"], ga["held"], ga["available"]) == (2, 3, 0)


def test_expired_holds_do_not_count_against_the_user(short_ttl: Any, event: str) -> None:
    holds = [short_ttl.held(event, "dan", seat_ids=[f"A-1-{n}"]) for n in range(5, 10)]
    assert_problem(short_ttl.hold(event, "dan", seat_ids=["A-1-10"]), 409)  # the limit is 5
    _wait_until(_expiry(holds[-1]) + 0.05)
    short_ttl.held(event, "dan", seat_ids=["A-1-10"])


def test_a_closed_event_does_not_reclaim_expired_holds(short_ttl: Any, event: str) -> None:
    hold = short_ttl.held(event, "ann", seat_ids=["A-2-9"])
    assert short_ttl.internal("POST", f"/events/{event}/close").status_code == 200
    _wait_until(_expiry(hold) + 0.05)
    body = assert_problem(short_ttl.confirm(hold["hold_id"], "bk-closed"), 409)
    assert body["type"].endswith("/event-closed")
