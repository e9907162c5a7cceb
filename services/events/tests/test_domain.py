"""The domain rules on their own, without HTTP."""

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import ValidationError
from sqlalchemy import delete
from ticketing_common.database import Database
from ticketing_common.problems import Problem
from ticketing_events import cursors, repository
from ticketing_events.pricing import min_price_cents
from ticketing_events.schemas import VenueIn
from ticketing_events.seatmap import EventLayout
from ticketing_events.tables import venues
from ticketing_events.venues import VenueCache, inventory_layout

SECTIONS: list[dict[str, Any]] = [
    {
        "section_id": "A",
        "name": "A",
        "kind": "seated",
        "rows": [{"label": "1", "seats": 2}, {"label": "2", "seats": 1}],
    },
    {"section_id": "F", "name": "Floor", "kind": "standing", "capacity": 5},
]
EVENT: dict[str, Any] = {
    "event_id": "e1",
    "venue_id": "v1",
    "status": "on_sale",
    "price_tiers": [
        {"tier": "seat", "price_cents": 3000, "currency": "EUR"},
        {"tier": "floor", "price_cents": 2000, "currency": "EUR"},
        {"tier": "unused", "price_cents": 10, "currency": "EUR"},
    ],
    "section_tiers": {"A": "seat", "F": "floor"},
}


def test_the_layout_lists_every_seat_with_its_derived_id_and_tier() -> None:
    layout = inventory_layout(SECTIONS, EVENT["section_tiers"])
    assert layout == {
        "seats": [
            {"seat_id": "A-1-1", "section_id": "A", "price_tier": "seat"},
            {"seat_id": "A-1-2", "section_id": "A", "price_tier": "seat"},
            {"seat_id": "A-2-1", "section_id": "A", "price_tier": "seat"},
        ],
        "standing": [{"section_id": "F", "capacity": 5, "price_tier": "floor"}],
    }
    assert {seat["seat_id"].split("-")[0] for seat in layout["seats"]} == {"A"}


def test_the_cheapest_price_ignores_tiers_no_section_uses() -> None:
    assert min_price_cents(EVENT) == 2000


def test_a_draft_seat_map_is_all_available() -> None:
    seatmap = orjson.loads(EventLayout.build(EVENT, {"sections": SECTIONS}).seatmap("draft", None))
    assert seatmap["event_status"] == "draft"
    seated, floor = seatmap["sections"]
    assert [s["status"] for r in seated["rows"] for s in r["seats"]] == ["available"] * 3
    assert (floor["capacity"], floor["available"], floor["held"], floor["sold"]) == (5, 5, 0, 0)


def test_cursors_round_trip_and_refuse_forgeries() -> None:
    at = datetime(2030, 5, 1, 19, 0, tzinfo=UTC)
    assert cursors.decode_event_position(cursors.encode([at.isoformat(), "e9"])) == (at, "e9")
    assert cursors.decode_id_position(cursors.encode(["e9"])) == "e9"
    for forged in ("", "!!", cursors.encode(["e9"]), cursors.encode([1, 2]), cursors.encode({})):
        with pytest.raises(Problem):
            cursors.decode_event_position(forged)


def venue(*places: int) -> dict[str, Any]:
    return {
        "name": "V",
        "city": "C",
        "country": "GB",
        "address": "A",
        "timezone": "UTC",
        "sections": [
            {"section_id": f"S{n}", "name": "S", "kind": "standing", "capacity": p}
            for n, p in enumerate(places)
        ],
    }


def test_a_venue_holds_at_most_150000_places() -> None:
    assert VenueIn.model_validate(venue(100_000, 50_000))
    with pytest.raises(ValidationError, match="150,001 places"):
        VenueIn.model_validate(venue(100_000, 50_001))


async def test_venues_in_use_are_read_once_then_served_from_memory(
    database_url: str, events_env: dict[str, str]
) -> None:
    database = Database(database_url)
    await database.start()
    try:
        async with database.session() as db:
            ids = []
            for n in range(3):
                row = await repository.insert_venue(
                    db,
                    venue_id=str(uuid.uuid4()),
                    organizer_id="o",
                    capacity=5,
                    in_use=n < 2,
                    **VenueIn.model_validate(venue(5)).model_dump() | {"name": f"V{n}"},
                )
                ids.append(row["venue_id"])
            await db.commit()
            cache = VenueCache(size=2)
            assert (await cache.get(db, ids[0]))["name"] == "V0"
            # A venue without events may still be edited (on any instance): never from memory.
            assert (await cache.get(db, ids[2]))["name"] == "V2"
            await repository.update_venue(db, ids[2], name="V2 edited")
            await db.commit()
            assert (await cache.get(db, ids[2]))["name"] == "V2 edited"
            await db.execute(delete(venues).where(venues.c.venue_id.in_(ids)))
            await db.commit()
            assert (await cache.get(db, ids[0]))["name"] == "V0"  # from memory: no row any more
            assert await cache.get(db, ids[1]) is None  # a miss reads the database
            assert await cache.get(db, "nowhere") is None
    finally:
        await database.stop()
