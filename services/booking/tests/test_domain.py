"""The booking's state machine (models.TRANSITIONS), enforced wherever a booking changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import pytest
from ticketing_booking.models import TRANSITIONS, Booking, IllegalTransition, Status


def booking(status: Status) -> Booking:
    now = datetime.now(UTC)
    return Booking(
        booking_id="b1",
        user_id="u1",
        event_id="e1",
        hold_id="h1",
        seat_ids=("A-1-1",),
        section_id=None,
        quantity=1,
        status=status,
        amount_cents=100,
        currency="EUR",
        hold_expires_at=now,
        created_at=now,
    )


def test_every_status_has_its_edges() -> None:
    assert set(TRANSITIONS) == set(get_args(Status))


@pytest.mark.parametrize("status", get_args(Status))
def test_a_status_change_follows_the_table(status: Status) -> None:
    for target in get_args(Status):
        allowed = target == status or target in TRANSITIONS[status]
        if allowed:
            assert booking(status).evolve(status=target).status == target
        else:
            with pytest.raises(IllegalTransition):
                booking(status).evolve(status=target)


def test_money_never_leaves_the_end_states() -> None:
    assert TRANSITIONS["refunded"] == frozenset()
    assert TRANSITIONS["confirmed"] == {"refunded"}
    # A change that keeps the status (a payment recorded, a version bump) is always allowed.
    assert booking("refunded").evolve(reason="x").version == 1
