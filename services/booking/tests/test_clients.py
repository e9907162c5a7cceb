"""Booking's inventory client against a stand-in inventory over real HTTP: a standing section's
size is asked once per event and section (every standing confirmation needs it; a published
layout never changes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from ticketing_booking.clients import InventoryClient
from ticketing_common.http_client import ServiceClient
from ticketing_common.peers import PeerUnavailable
from ticketing_devkit.processes import serve_app

ASKED: list[str] = []


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


@pytest.fixture
async def inventory(inventory_url: str) -> AsyncIterator[InventoryClient]:
    ASKED.clear()
    services = ServiceClient("svc-token", timeout_s=2)
    await services.start()
    yield InventoryClient(services, inventory_url)
    await services.stop()


async def test_a_sections_capacity_is_asked_once(inventory: InventoryClient) -> None:
    assert [await inventory.capacity("e1", "GA") for _ in range(3)] == [20, 20, 20]
    assert await inventory.capacity("e2", "GA") == 500
    assert ASKED == ["e1", "e2"]


async def test_an_unknown_section_is_not_remembered(inventory: InventoryClient) -> None:
    for _ in range(2):
        with pytest.raises(PeerUnavailable):
            await inventory.capacity("e1", "VIP")
    assert ASKED == ["e1", "e1"]
