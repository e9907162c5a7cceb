"""The sweeper: a background loop that tidies expired claims. Nothing waits for it (an expired
claim counts as free at every read and every hold); it keeps the structures small."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from ticketing_common.resources import provided_by

from ticketing_inventory.settings import InventorySettings
from ticketing_inventory.store import Inventory

log = logging.getLogger(__name__)


async def sweep_once(inventory: Inventory, batch: int) -> int:
    tidied = 0
    for event_id in await inventory.events():
        while True:
            dropped = await inventory.sweep(event_id, batch)
            tidied += dropped
            if dropped < batch:
                break
    return tidied


async def sweep_forever(app: FastAPI) -> None:
    settings = provided_by(app, InventorySettings)
    inventory = provided_by(app, Inventory)
    while True:
        await asyncio.sleep(settings.sweep_interval_s)
        if tidied := await sweep_once(inventory, settings.sweep_batch):
            log.info("swept expired claims", extra={"claims": tidied})
