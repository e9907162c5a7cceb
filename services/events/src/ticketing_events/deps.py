"""What the events routes declare: each dependency reads like the thing it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import HTTPConnection
from ticketing_common.database import Database, DbSession
from ticketing_common.resources import resource

from ticketing_events.catalog import Catalog
from ticketing_events.events import Events
from ticketing_events.inventory import Inventory
from ticketing_events.venues import VenueCache, Venues


def _inventory(conn: HTTPConnection) -> Inventory:
    inventory: Inventory = conn.app.state.inventory
    return inventory


async def _read_connection(conn: HTTPConnection) -> AsyncIterator[AsyncConnection]:
    """For requests that only read: autocommit, so no BEGIN/ROLLBACK round trips."""
    async with resource(conn, Database).engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")


def _venue_cache(conn: HTTPConnection) -> VenueCache:
    venues: VenueCache = conn.app.state.venue_cache
    return venues


def _events(db: DbSession, conn: HTTPConnection) -> Events:
    return Events(db, _inventory(conn), _venue_cache(conn))


def _catalog(
    db: Annotated[AsyncConnection, Depends(_read_connection)], conn: HTTPConnection
) -> Catalog:
    return Catalog(db, _inventory(conn), _venue_cache(conn))


def _venues(db: DbSession) -> Venues:
    return Venues(db)


EventsService = Annotated[Events, Depends(_events)]
CatalogService = Annotated[Catalog, Depends(_catalog)]
VenuesService = Annotated[Venues, Depends(_venues)]
