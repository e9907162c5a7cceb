"""What the events routes declare: each dependency reads like the thing it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import HTTPConnection
from ticketing_common.database import Database, DbSession
from ticketing_common.resources import provided, resource

from ticketing_events.catalog import Catalog
from ticketing_events.clients import InventoryClient
from ticketing_events.events import Events
from ticketing_events.readcache import ReadCache
from ticketing_events.seatmap import LayoutCache
from ticketing_events.venues import VenueCache, Venues

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per dependency per request for what is an attribute lookup.


Inventory = Annotated[InventoryClient, Depends(provided(InventoryClient))]
CachedVenues = Annotated[VenueCache, Depends(provided(VenueCache))]
CachedReads = Annotated[ReadCache, Depends(provided(ReadCache))]
CachedLayouts = Annotated[LayoutCache, Depends(provided(LayoutCache))]


class ReadConnection:
    """For requests that only read: opened on first use (a read served from memory needs
    none), autocommit (no BEGIN/ROLLBACK round trips), closed with the request."""

    def __init__(self, database: Database, exits: AsyncExitStack) -> None:
        self.database = database
        self.exits = exits
        self.connection: AsyncConnection | None = None

    async def __call__(self) -> AsyncConnection:
        if self.connection is None:
            opened = await self.exits.enter_async_context(self.database.engine.connect())
            self.connection = await opened.execution_options(isolation_level="AUTOCOMMIT")
        return self.connection


async def _read_connection(conn: HTTPConnection) -> AsyncIterator[ReadConnection]:
    async with AsyncExitStack() as exits:
        yield ReadConnection(resource(conn, Database), exits)


async def _events(
    db: DbSession, inventory: Inventory, venues: CachedVenues, reads: CachedReads
) -> Events:
    return Events(db, inventory, venues, reads)


async def _catalog(
    connect: Annotated[ReadConnection, Depends(_read_connection)],
    inventory: Inventory,
    venues: CachedVenues,
    reads: CachedReads,
    layouts: CachedLayouts,
) -> Catalog:
    return Catalog(connect, inventory, venues, reads, layouts)


async def _venues(db: DbSession) -> Venues:
    return Venues(db)


EventsService = Annotated[Events, Depends(_events)]
CatalogService = Annotated[Catalog, Depends(_catalog)]
VenuesService = Annotated[Venues, Depends(_venues)]
