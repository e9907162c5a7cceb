"""What the events routes declare: each dependency reads like the thing it is."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from ticketing_common.database import DbSession
from ticketing_common.resources import provided

from ticketing_events.catalog import Catalog
from ticketing_events.clients import InventoryClient
from ticketing_events.events import Events
from ticketing_events.readcache import ReadCache
from ticketing_events.venues import VenueCache, Venues

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per dependency per request for what is an attribute lookup.


Inventory = Annotated[InventoryClient, Depends(provided(InventoryClient))]
CachedVenues = Annotated[VenueCache, Depends(provided(VenueCache))]
CachedReads = Annotated[ReadCache, Depends(provided(ReadCache))]


async def _events(
    db: DbSession, inventory: Inventory, venues: CachedVenues, reads: CachedReads
) -> Events:
    return Events(db, inventory, venues, reads)


async def _venues(db: DbSession) -> Venues:
    return Venues(db)


EventsService = Annotated[Events, Depends(_events)]
# One per process (it opens a read connection only when the caches cannot answer).
CatalogService = Annotated[Catalog, Depends(provided(Catalog))]
VenuesService = Annotated[Venues, Depends(_venues)]
