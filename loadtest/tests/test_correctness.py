"""The correctness check's logic on crafted states of the platform."""

from __future__ import annotations

import copy
from typing import Any

from ticketing_loadtest.correctness import EventState, check_event, run_check


def clean() -> EventState:
    """A3 and A4 sold to b1, A5 held, 3 standing places sold to b2, b3 refunded, b4 failed."""
    seats = {f"A-1-{n}": "available" for n in range(1, 7)}
    seats |= {"A-1-3": "sold", "A-1-4": "sold", "A-1-5": "held"}
    sold = [
        {"booking_id": "b1", "seat_ids": ["A-1-3", "A-1-4"], "section_id": None, "quantity": 2},
        {"booking_id": "b2", "seat_ids": [], "section_id": "GA", "quantity": 3},
    ]

    def booking(bid: str, status: str, pid: str, cents: int) -> dict[str, Any]:
        return {
            "booking_id": bid,
            "status": status,
            "amount_cents": cents,
            "payment": {"payment_id": pid, "provider": "local", "client_secret": ""},
        }

    bookings = [
        booking("b1", "confirmed", "p1", 9000),
        booking("b2", "confirmed", "p2", 6000),
        booking("b3", "refunded", "p3", 4500),
        booking("b4", "failed", "p4", 4500),
        booking("b5", "pending_payment", "p5", 4500),
        {"booking_id": "b6", "status": "cancelled", "amount_cents": 4500, "payment": None},
    ]
    payments = {
        pid: {"payment_id": pid, "booking_id": bid, "status": status, "amount_cents": cents}
        for pid, bid, status, cents in [
            ("p1", "b1", "succeeded", 9000),
            ("p2", "b2", "succeeded", 6000),
            ("p3", "b3", "refunded", 4500),
            ("p4", "b4", "failed", 4500),
            ("p5", "b5", "requires_payment", 4500),
        ]
    }
    return EventState(
        event_id="e1",
        sections=[
            {"section_id": "A", "capacity": 6, "available": 3, "held": 1, "sold": 2},
            {"section_id": "GA", "capacity": 10, "available": 6, "held": 1, "sold": 3},
        ],
        seats=seats,
        sold=sold,
        bookings=bookings,
        payments=payments,
    )


def kinds(state: EventState) -> list[str]:
    return sorted(v.kind for v in check_event(state))


def changed(**changes: Any) -> EventState:
    state = copy.deepcopy(clean())
    return EventState(**{**state.__dict__, **changes})


def test_a_consistent_event_has_no_findings() -> None:
    assert check_event(clean()) == []


def test_a_seat_in_two_confirmed_bookings_is_sold_twice() -> None:
    state = clean()
    sold = [
        *state.sold,
        {"booking_id": "b9", "seat_ids": ["A-1-4"], "section_id": None, "quantity": 1},
    ]
    found = check_event(changed(sold=sold))
    assert "seat-sold-twice" in [v.kind for v in found]
    assert any(v.detail == "A-1-4: b1, b9" for v in found)


def test_inventory_and_durable_claims_must_agree_seat_by_seat() -> None:
    seats = {**clean().seats, "A-1-1": "sold", "A-1-4": "available"}
    sections = [
        {"section_id": "A", "capacity": 6, "available": 3, "held": 1, "sold": 2},
        clean().sections[1],
    ]
    assert kinds(changed(seats=seats, sections=sections)) == [
        "booked-not-sold",
        "sold-without-booking",
    ]


def test_counts_must_add_up_to_capacity_and_match_the_seats() -> None:
    sections = [
        {"section_id": "A", "capacity": 6, "available": 4, "held": 1, "sold": 2},
        {"section_id": "GA", "capacity": 10, "available": 7, "held": 1, "sold": 2},
    ]
    assert kinds(changed(sections=sections)) == [
        "counts-dont-add-up",  # A: 4 + 1 + 2 != 6
        "seat-statuses-disagree",  # A: the seats say 3 available
        "sold-count-mismatch",  # GA: 2 sold, but b2 holds 3 places
    ]
    negative = [clean().sections[0], {**clean().sections[1], "available": 7, "held": -1}]
    assert kinds(changed(sections=negative)) == ["counts-dont-add-up"]


def test_money_kept_means_seats_delivered_and_the_other_way_round() -> None:
    def with_payment(pid: str, **fields: Any) -> EventState:
        state = copy.deepcopy(clean())
        payments = dict(state.payments)
        payments[pid] = {**payments[pid], **fields}
        return changed(payments=payments)

    assert kinds(with_payment("p5", status="succeeded")) == ["paid-not-confirmed"]
    assert kinds(with_payment("p4", status="succeeded")) == ["paid-not-confirmed"]
    assert kinds(with_payment("p1", status="refunded")) == [
        "confirmed-not-paid",
        "refunded-but-kept",
    ]
    assert kinds(with_payment("p3", status="succeeded")) == [
        "paid-not-confirmed",
        "refund-missing",
    ]
    assert kinds(with_payment("p2", amount_cents=1)) == ["amount-mismatch"]
    assert kinds(with_payment("p2", booking_id="b1")) == ["payment-of-other-booking"]
    missing = {k: v for k, v in clean().payments.items() if k != "p1"}
    assert kinds(changed(payments=missing)) == ["payment-missing"]
    unpaid = [dict(b) for b in clean().bookings]
    unpaid[0]["payment"] = None
    assert kinds(changed(bookings=unpaid)) == ["confirmed-without-payment"]


def test_the_check_reads_again_until_the_platform_has_settled() -> None:
    in_flight = copy.deepcopy(clean())
    in_flight.payments["p5"]["status"] = "succeeded"  # the webhook arrived, booking not yet
    answers = [in_flight, in_flight, clean()]
    reads: list[str] = []

    def read(event_id: str) -> EventState:
        reads.append(event_id)
        return answers[min(len(reads) - 1, len(answers) - 1)]

    said: list[str] = []
    assert run_check(read, ["e1", "e1"], settle_s=5, interval_s=0.01, say=said.append) == []
    assert reads == ["e1", "e1", "e1"]  # duplicates read once per round
    assert "settling" in said[0]
    assert said[-1].startswith("e1: capacity 16 = available 9")


def test_what_never_settles_is_reported() -> None:
    stuck = changed(sections=[{**clean().sections[0], "sold": 3}, clean().sections[1]])
    found = run_check(lambda _: stuck, ["e1"], settle_s=0.05, interval_s=0.01, say=lambda _: None)
    assert {v.kind for v in found} == {
        "counts-dont-add-up",
        "seat-statuses-disagree",
        "sold-count-mismatch",
    }
