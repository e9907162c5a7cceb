"""Convergence for cancellations: an event is cancelled even when inventory is down (the fact
drives refunds); this loop keeps telling inventory to stop selling until it has listened."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from ticketing_common.database import Database

from ticketing_events import repository
from ticketing_events.clients import InventoryClient
from ticketing_events.events import close_inventory

log = logging.getLogger(__name__)


class InventoryCloser:
    def __init__(
        self,
        database: Database,
        inventory: InventoryClient,
        *,
        interval_s: float,
        batch_size: int = 50,
    ) -> None:
        self.database = database
        self.inventory = inventory
        self.interval_s = interval_s
        self.batch_size = batch_size

    async def run(self, app: FastAPI | None = None) -> None:
        while True:
            await self.close_due()
            await asyncio.sleep(self.interval_s)

    async def close_due(self) -> int:
        """One pass; returns how many events inventory closed. Closing is idempotent, so two
        replicas closing the same event at once is harmless."""
        closed = 0
        async with self.database.session() as db:
            for event_id in await repository.closing_due(db, self.batch_size):
                if await close_inventory(db, self.inventory, event_id):
                    closed += 1
        if closed:
            log.info("closed inventory of cancelled events", extra={"count": closed})
        return closed
