"""Booking's inventory and events clients against stand-ins over real HTTP: a standing section's
size is asked once per event and section (every standing confirmation needs it), a published
event's prices once per event (every booking needs them): neither changes after publishing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from ticketing_booking.clients import EventsClient, InventoryClient
from ticketing_common.contracts import HoldRecord
from ticketing_common.http_client import ServiceClient
from ticketing_common.peers import PeerUnavailable
from ticketing_common.problems import Problem, ProblemType
from ticketing_devkit.processes import serve_app

ASKED: list[str] = []
C = TypeVar("C", InventoryClient, EventsClient)


def _section(section_id: str, capacity: int) -> dict[str, Any]:
    return {
        "section_id": section_id,
        "kind": "standing",
        "capacity": capacity,
        "available": capacity,
        "held": 0,
        "sold": 0,
    }


@pytest.fixture(scope="module")
def inventory_url() -> Iterator[str]:
    app = FastAPI()

    @app.get("/api/v1/inventory/events/{event_id}/availability")
    async def availability(event_id: str) -> dict[str, Any]:
        ASKED.append(event_id)
        size = 20 if event_id == "e1" else 500
        return {"event_id": event_id, "status": "open", "sections": [_section("GA", size)]}

    with serve_app(app) as url:
        yield url


@asynccontextmanager
async def _client(kind: type[C], url: str) -> AsyncIterator[C]:
    """A peer client on a started ServiceClient, with the record of what was asked cleared."""
    ASKED.clear()
    services = ServiceClient("svc-token", timeout_s=2)
    await services.start()
    try:
        yield kind(services, url)
    finally:
        await services.stop()


@pytest.fixture
async def inventory(inventory_url: str) -> AsyncIterator[InventoryClient]:
    async with _client(InventoryClient, inventory_url) as client:
        yield client


async def test_a_sections_capacity_is_asked_once(inventory: InventoryClient) -> None:
    assert [await inventory.capacity("e1", "GA") for _ in range(3)] == [20, 20, 20]
    assert await inventory.capacity("e2", "GA") == 500
    assert ASKED == ["e1", "e2"]


async def test_an_unknown_section_is_not_remembered(inventory: InventoryClient) -> None:
    for _ in range(2):
        with pytest.raises(PeerUnavailable):
            await inventory.capacity("e1", "VIP")
    assert ASKED == ["e1", "e1"]


def _event(event_id: str, status: str, seat_price: int) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "organizer_id": "o1",
        "title": "Night",
        "status": status,
        "venue_name": "Hall",
        "city": "Leeds",
        "starts_at": "2027-01-01T20:00:00Z",
        "currency": "EUR",
        "price_tiers": [
            {"tier": "seat", "price_cents": seat_price, "currency": "EUR"},
            {"tier": "floor", "price_cents": 1500, "currency": "EUR"},
        ],
        "section_tiers": {"A": "seat", "GA": "floor"},
    }


@pytest.fixture(scope="module")
def events_url() -> Iterator[str]:
    app = FastAPI()
    drafts_asked = [0]

    @app.get("/internal/events/{event_id}")
    async def event(event_id: str) -> Any:
        ASKED.append(event_id)
        if event_id == "draft":  # an organizer edits a draft's prices between two holds
            drafts_asked[0] += 1
            return _event(event_id, "draft", 1000 * drafts_asked[0])
        if event_id == "gone":
            return JSONResponse({"title": "Not found"}, 404, media_type="application/problem+json")
        return _event(event_id, "on_sale", 4000)

    with serve_app(app) as url:
        yield url


@pytest.fixture
async def events(events_url: str) -> AsyncIterator[EventsClient]:
    async with _client(EventsClient, events_url) as client:
        yield client


def _hold(event_id: str, seat_ids: list[str], section_id: str | None, quantity: int) -> HoldRecord:
    return HoldRecord(
        hold_id="h1",
        event_id=event_id,
        user_id="u1",
        seat_ids=seat_ids,
        section_id=section_id,
        quantity=quantity,
        expires_at=datetime.now(UTC),
        status="held",
        booking_id=None,
    )


async def test_a_published_events_prices_are_asked_once(events: EventsClient) -> None:
    seats = await events.price(_hold("e1", ["A-1-1", "A-1-2"], None, 2))
    standing = await events.price(_hold("e1", [], "GA", 3))
    assert (seats.amount_cents, seats.currency) == (8000, "EUR")
    assert (standing.amount_cents, standing.currency) == (4500, "EUR")
    assert ASKED == ["e1"]


async def test_a_drafts_prices_are_asked_each_time(events: EventsClient) -> None:
    first = await events.price(_hold("draft", ["A-1-1"], None, 1))
    second = await events.price(_hold("draft", ["A-1-1"], None, 1))
    assert second.amount_cents == first.amount_cents + 1000
    assert ASKED == ["draft", "draft"]


@pytest.mark.parametrize(
    ("hold", "reason"),
    [
        (_hold("gone", ["A-1-1"], None, 1), "unknown_event"),
        (_hold("e1", ["Z-1-1"], None, 1), "unpriced_section"),
        (_hold("e1", [], "VIP", 2), "unpriced_section"),
    ],
)
async def test_a_hold_the_event_does_not_price_is_not_bookable(
    events: EventsClient, hold: HoldRecord, reason: str
) -> None:
    with pytest.raises(Problem) as refused:
        await events.price(hold)
    assert refused.value.status == 409
    assert refused.value.type.endswith(ProblemType.NOT_BOOKABLE)
    assert refused.value.extensions["reason"] == reason
