"""What the inventory's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from ticketing_common.resources import provided

from ticketing_inventory.ids import EVENT_ID_PATTERN
from ticketing_inventory.store import Inventory

InventoryService = Annotated[Inventory, Depends(provided(Inventory))]
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="The event's id")]
HoldId = Annotated[str, Path(max_length=200, description="The hold's id")]
