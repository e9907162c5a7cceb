"""What the inventory's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from starlette.requests import HTTPConnection

from ticketing_inventory.ids import EVENT_ID_PATTERN
from ticketing_inventory.store import Inventory


async def _inventory(conn: HTTPConnection) -> Inventory:  # async: sync ones run in a thread pool
    inventory: Inventory = conn.app.state.inventory
    return inventory


InventoryService = Annotated[Inventory, Depends(_inventory)]
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="The event's id")]
HoldId = Annotated[str, Path(max_length=200, description="The hold's id")]
