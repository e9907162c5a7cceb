"""What the events routes declare: each dependency reads like the thing it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import HTTPConnection
from ticketing_common.database import Database, DbSession
from ticketing_common.resources import resource

from ticketing_events.catalog import Catalog
from ticketing_events.clients import InventoryClient
from ticketing_events.events import Events
from ticketing_events.readcache import ReadCache
from ticketing_events.seatmap import LayoutCache
from ticketing_events.venues import VenueCache, Venues

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per dependency per request for what is an attribute lookup.


def _inventory(conn: HTTPConnection) -> InventoryClient:
    inventory: InventoryClient = conn.app.state.inventory
    return inventory


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


def _venue_cache(conn: HTTPConnection) -> VenueCache:
    venues: VenueCache = conn.app.state.venue_cache
    return venues


def _read_cache(conn: HTTPConnection) -> ReadCache:
    reads: ReadCache = conn.app.state.read_cache
    return reads


async def _events(db: DbSession, conn: HTTPConnection) -> Events:
    return Events(db, _inventory(conn), _venue_cache(conn), _read_cache(conn))


async def _catalog(
    connect: Annotated[ReadConnection, Depends(_read_connection)], conn: HTTPConnection
) -> Catalog:
    layouts: LayoutCache = conn.app.state.layout_cache
    return Catalog(connect, _inventory(conn), _venue_cache(conn), _read_cache(conn), layouts)


async def _venues(db: DbSession) -> Venues:
    return Venues(db)


EventsService = Annotated[Events, Depends(_events)]
CatalogService = Annotated[Catalog, Depends(_catalog)]
VenuesService = Annotated[Venues, Depends(_venues)]
