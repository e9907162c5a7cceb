from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime
from ticketing_common.internal import internal_router
from ticketing_common.security import OptionalUser, OrganizerUser

from ticketing_events.deps import CatalogService, EventsService, VenuesService
from ticketing_events.schemas import (
    Event,
    EventIn,
    EventPage,
    EventPatch,
    InternalEvent,
    InventoryEvents,
    InventoryLayout,
    Quote,
    QuoteIn,
    SearchDocuments,
    Seatmap,
    Venue,
    VenueIn,
)

venues_api = APIRouter(prefix="/api/v1/venues", tags=["venues"])
events_api = APIRouter(prefix="/api/v1/events", tags=["events"])
internal = internal_router()

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_AUTH: dict[int | str, dict[str, Any]] = {401: _PROBLEM, 403: _PROBLEM}
_MANAGE: dict[int | str, dict[str, Any]] = _AUTH | {
    404: _PROBLEM,
    409: _PROBLEM | {"description": "Not allowed in this status"},
}


@venues_api.post("", status_code=201, response_model=Venue, responses=_AUTH | {422: _PROBLEM})
async def create_venue(body: VenueIn, user: OrganizerUser, venues: VenuesService) -> dict[str, Any]:
    return await venues.create(user, body)


@venues_api.get("/{venue_id}", response_model=Venue, responses={404: _PROBLEM})
async def get_venue(venue_id: str, catalog: CatalogService) -> dict[str, Any]:
    return await catalog.venue(venue_id)


@events_api.post("", status_code=201, response_model=Event, responses=_AUTH | {422: _PROBLEM})
async def create_event(body: EventIn, user: OrganizerUser, events: EventsService) -> dict[str, Any]:
    return await events.create(user, body)


@events_api.get(
    "",
    response_model=EventPage,
    summary="Published events, soonest first",
    responses={422: _PROBLEM},
)
async def list_events(
    catalog: CatalogService,
    city: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=50)] = None,
    starts_after: Annotated[
        AwareDatetime | None, Query(description="Events starting at or after this time")
    ] = None,
    starts_before: Annotated[
        AwareDatetime | None, Query(description="Events starting before this time")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    return await catalog.on_sale(
        city=city,
        category=category,
        starts_after=starts_after,
        starts_before=starts_before,
        limit=limit,
        cursor=cursor,
    )


@events_api.get("/{event_id}", response_model=Event, responses={404: _PROBLEM})
async def get_event(event_id: str, user: OptionalUser, catalog: CatalogService) -> dict[str, Any]:
    return await catalog.event(user, event_id)


@events_api.patch("/{event_id}", response_model=Event, responses=_MANAGE | {422: _PROBLEM})
async def update_event(
    event_id: str, body: EventPatch, user: OrganizerUser, events: EventsService
) -> dict[str, Any]:
    return await events.update(user, event_id, body.model_dump(exclude_unset=True))


@events_api.post(
    "/{event_id}/publish",
    response_model=Event,
    responses=_MANAGE | {503: _PROBLEM | {"description": "Inventory unreachable; still a draft"}},
)
async def publish_event(
    event_id: str, user: OrganizerUser, events: EventsService
) -> dict[str, Any]:
    return await events.publish(user, event_id)


@events_api.post("/{event_id}/cancel", response_model=Event, responses=_MANAGE)
async def cancel_event(event_id: str, user: OrganizerUser, events: EventsService) -> dict[str, Any]:
    return await events.cancel(user, event_id)


@events_api.get(
    "/{event_id}/seatmap",
    response_model=Seatmap,
    responses={404: _PROBLEM, 503: _PROBLEM},
)
async def seatmap(event_id: str, user: OptionalUser, catalog: CatalogService) -> Response:
    # A stadium is 60,000 seats: serialise the plain dicts directly rather than building (and
    # re-validating) a model per seat. The response model still documents the shape.
    body = await catalog.seatmap(user, event_id)
    return Response(orjson.dumps(body), media_type="application/json")


@internal.get("/events/{event_id}", response_model=InternalEvent, responses={404: _PROBLEM})
async def internal_event(event_id: str, catalog: CatalogService) -> dict[str, Any]:
    return await catalog.internal_view(event_id)


@internal.post(
    "/events/{event_id}/quote", response_model=Quote, responses={404: _PROBLEM, 422: _PROBLEM}
)
async def quote(event_id: str, body: QuoteIn, catalog: CatalogService) -> dict[str, Any]:
    return await catalog.quote(event_id, body)


@internal.get("/search-documents", response_model=SearchDocuments)
async def search_documents(
    catalog: CatalogService,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    return await catalog.search_documents(cursor, limit)


@internal.get("/inventory/events", response_model=InventoryEvents)
async def inventory_events(
    catalog: CatalogService,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    """Every event that went on sale: what inventory must hold state for (after a cache loss it
    rebuilds each from its layout and booking's sales)."""
    return await catalog.inventory_events(cursor, limit)


@internal.get(
    "/events/{event_id}/inventory-layout", response_model=InventoryLayout, responses={404: _PROBLEM}
)
async def inventory_layout(event_id: str, catalog: CatalogService) -> Response:
    """A published event's seats and standing areas, as inventory is initialised with them."""
    # Up to 150,000 places: serialised as built, like the seat map.
    return Response(
        orjson.dumps(await catalog.inventory_layout(event_id)), media_type="application/json"
    )
