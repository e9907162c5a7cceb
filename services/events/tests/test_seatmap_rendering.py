"""The contract's seat map rendered from the layout and inventory's bits, against the plain
reading of the same data: every seat's status and every section's counts, whatever order the
venue lists its sections and rows in (bit order is the seat ids' natural order)."""

import base64
import random
from typing import Any

import orjson
import pytest
from ticketing_common.contracts import AvailabilityBits, SectionAvailability
from ticketing_common.errors import PeerUnavailable
from ticketing_events.seatmap import EventLayout, LayoutCache

SHUFFLED_VENUE: dict[str, Any] = {
    "sections": [
        {
            "section_id": "S2",
            "name": 'Upper "two"',
            "kind": "seated",
            "rows": [{"label": "B", "seats": 3}, {"label": "A", "seats": 11}],
        },
        {"section_id": "F", "name": "Floor", "kind": "standing", "capacity": 50},
        {
            "section_id": "S1",
            "name": "One",
            "kind": "seated",
            "rows": [{"label": "10", "seats": 2}, {"label": "9", "seats": 9}],
        },
    ]
}
EVENT: dict[str, Any] = {
    "event_id": "e1",
    "venue_id": "v1",
    "price_tiers": [{"tier": "t", "price_cents": 100, "currency": "GBP"}],
    "section_tiers": {"S2": "t", "F": "t", "S1": "t"},
}


def random_bits(layout: EventLayout, rng: random.Random) -> tuple[AvailabilityBits, dict[str, str]]:
    """Inventory's answer for random seat states, and the states by seat id."""
    document = orjson.loads(layout.document)
    size = (layout.seat_count + 7) // 8
    sold, held, states = bytearray(size), bytearray(size), {}
    for section in document["sections"]:
        for row in section.get("rows") or []:
            for seat in row["seats"]:
                state, bit = rng.choice(["available", "held", "sold"]), seat["bit"]
                states[seat["seat_id"]] = state
                if state == "sold":
                    sold[bit >> 3] |= 0x80 >> (bit & 7)
                if state == "held":
                    held[bit >> 3] |= 0x80 >> (bit & 7)
    bits = AvailabilityBits(
        event_id="e1",
        status="open",
        seat_count=layout.seat_count,
        sold=base64.b64encode(sold).decode(),
        held=base64.b64encode(held).decode(),
        sections=[
            SectionAvailability(
                section_id="F", kind="standing", capacity=50, available=41, held=3, sold=6
            )
        ],
    )
    return bits, states


def test_every_seat_gets_its_own_state_whatever_the_venue_order() -> None:
    layout = EventLayout.build(EVENT, SHUFFLED_VENUE)
    document = orjson.loads(layout.document)
    assert document["seat_count"] == layout.seat_count == 25
    bits_in_order = [
        seat["bit"]
        for section in document["sections"]
        for row in section.get("rows") or []
        for seat in row["seats"]
    ]
    assert sorted(bits_in_order) == list(range(25))
    assert bits_in_order[:3] == [22, 23, 24]  # S2-B-* sort after S2-A-*, after every S1 seat
    rng = random.Random(17)
    for _ in range(50):  # the memo of eight-seat renderings is reused across requests
        bits, states = random_bits(layout, rng)
        seatmap = orjson.loads(layout.seatmap("on_sale", bits))
        rendered = {
            seat["seat_id"]: seat["status"]
            for section in seatmap["sections"]
            for row in section.get("rows") or []
            for seat in row["seats"]
        }
        assert rendered == states
    assert seatmap["event_status"] == "on_sale"
    upper, floor, _ = seatmap["sections"]
    assert upper["name"] == 'Upper "two"'
    assert [row["label"] for row in upper["rows"]] == ["B", "A"]
    assert (floor["capacity"], floor["available"], floor["held"], floor["sold"]) == (50, 41, 3, 6)
    assert "rows" not in floor


def test_bits_for_another_layout_are_refused() -> None:
    layout = EventLayout.build(EVENT, SHUFFLED_VENUE)
    bits, _ = random_bits(layout, random.Random(1))
    with pytest.raises(PeerUnavailable) as refused:
        layout.seatmap("on_sale", bits.model_copy(update={"seat_count": 24}))
    assert refused.value.service == "inventory"


def test_the_layout_version_follows_what_the_layout_is_made_of() -> None:
    cache = LayoutCache()
    first = cache.get(EVENT, SHUFFLED_VENUE)
    assert cache.get(dict(EVENT), SHUFFLED_VENUE) is first
    repriced = EVENT | {"price_tiers": [{"tier": "t", "price_cents": 200, "currency": "GBP"}]}
    second = cache.get(repriced, SHUFFLED_VENUE)
    assert second.version != first.version
    assert orjson.loads(second.document)["price_tiers"][0]["price_cents"] == 200
    assert first.etag == f'"{first.version}"'
