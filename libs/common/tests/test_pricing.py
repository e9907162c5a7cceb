"""What a hold costs, from the event's prices (ticketing_common.pricing), and the bounded map
the services remember such never-changing facts in (ticketing_common.lru)."""

from datetime import UTC, datetime

import pytest
from ticketing_common.contracts import EventSummary
from ticketing_common.lru import Lru
from ticketing_common.pricing import Pricing, Unpriced

EVENT = EventSummary(
    event_id="e1",
    organizer_id="o1",
    title="Night",
    status="on_sale",
    venue_name="Hall",
    city="Leeds",
    starts_at=datetime(2027, 1, 1, tzinfo=UTC),
    currency="EUR",
    price_tiers=[
        {"tier": "front", "price_cents": 5000, "currency": "EUR"},
        {"tier": "back", "price_cents": 2500, "currency": "EUR"},
        {"tier": "floor", "price_cents": 1500, "currency": "EUR"},
    ],
    section_tiers={"ST": "front", "BAL": "back", "PIT": "floor"},
)


def test_seats_cost_their_sections_tier_and_standing_places_each_the_same() -> None:
    pricing = Pricing.of(EVENT)
    assert pricing.currency == "EUR"
    assert pricing.amount_cents(["ST-B-4", "BAL-1-2", "BAL-1-3"], None, 3) == 5000 + 2 * 2500
    assert pricing.amount_cents([], "PIT", 4) == 4 * 1500


@pytest.mark.parametrize(
    ("seat_ids", "section_id"),
    [(["VIP-1-1"], None), (["ST-1-1", "X-1-1"], None), ([], "VIP"), ([], None)],
)
def test_places_of_a_section_the_event_does_not_price_are_refused(
    seat_ids: list[str], section_id: str | None
) -> None:
    with pytest.raises(Unpriced):
        Pricing.of(EVENT).amount_cents(seat_ids, section_id, 1)


def test_the_least_recently_used_entry_goes_first() -> None:
    remembered: Lru[str, int] = Lru(2)
    remembered.put("a", 1)
    remembered.put("b", 2)
    assert remembered.get("a") == 1  # a is now the most recent
    remembered.put("c", 3)
    assert (remembered.get("a"), remembered.get("b"), remembered.get("c")) == (1, None, 3)
    assert len(remembered) == 2
