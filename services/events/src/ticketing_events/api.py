from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from ticketing_common.contracts import (
    InventoryEvents,
    InventoryLayout,
    SearchDocuments,
    WaitingRooms,
    WaitingRoomSettings,
)
from ticketing_common.fastpath import parse_query, path_parameter, query_parameters
from ticketing_common.http_cache import (
    IMMUTABLE,
    NO_STORE,
    PRIVATE,
    PublicCacheControl,
    cached_response,
    public_cache_control,
)
from ticketing_common.internal import internal_router
from ticketing_common.problems import PROBLEM
from ticketing_common.resources import provided_by
from ticketing_common.security import DoorUser, OptionalUser, OrganizerUser, optional_caller

from ticketing_events.catalog import Catalog
from ticketing_events.deps import CatalogService, EventsService, VenuesService
from ticketing_events.schemas import (
    Event,
    EventIn,
    EventPage,
    EventPatch,
    EventStatus,
    InternalEvent,
    Layout,
    ListingParams,
    Seatmap,
    Venue,
    VenueIn,
    VenuePage,
    WaitingRoomSettingsIn,
)

venues_api = APIRouter(prefix="/api/v1/venues", tags=["venues"])
events_api = APIRouter(prefix="/api/v1/events", tags=["events"])
internal = internal_router()


_AUTH: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM}
# What a fast-path route (reading its own inputs) declares for the OpenAPI schema, as FastAPI
# would for `event_id: str, user: OptionalUser`: anyone, a token optional.
_PUBLIC_EVENT_READ: dict[str, Any] = {
    "parameters": [path_parameter("event_id")],
    "security": [{}, {"HTTPBearer": []}],
}
_MANAGE: dict[int | str, dict[str, Any]] = _AUTH | {
    404: PROBLEM,
    409: PROBLEM | {"description": "Not allowed in this status"},
}


@venues_api.post("", status_code=201, response_model=Venue, responses=_AUTH | {422: PROBLEM})
async def create_venue(body: VenueIn, user: OrganizerUser, venues: VenuesService) -> dict[str, Any]:
    return await venues.create(user, body)


@venues_api.get(
    "",
    response_model=VenuePage,
    summary="The caller's venues, newest first (admins: every venue)",
    responses=_AUTH | {422: PROBLEM},
)
async def list_venues(
    user: OrganizerUser,
    venues: VenuesService,
    response: Response,
    organizer_id: Annotated[
        str | None, Query(max_length=64, description="Admins only: one organizer's venues")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = NO_STORE
    return await venues.page(user, organizer_id, limit, cursor)


@venues_api.get("/{venue_id}", response_model=Venue, responses={404: PROBLEM})
async def get_venue(venue_id: str, catalog: CatalogService) -> dict[str, Any]:
    return await catalog.venue(venue_id)


@venues_api.put(
    "/{venue_id}",
    response_model=Venue,
    summary="Replace a venue's details and sections (only while no event uses it)",
    responses=_AUTH
    | {
        404: PROBLEM,
        409: PROBLEM | {"description": "An event uses the venue: it can no longer change"},
        422: PROBLEM,
    },
)
async def replace_venue(
    venue_id: str, body: VenueIn, user: OrganizerUser, venues: VenuesService
) -> dict[str, Any]:
    return await venues.replace(user, venue_id, body)


@events_api.post("", status_code=201, response_model=Event, responses=_AUTH | {422: PROBLEM})
async def create_event(body: EventIn, user: OrganizerUser, events: EventsService) -> dict[str, Any]:
    return await events.create(user, body)


@events_api.get(
    "",
    response_model=EventPage,
    summary="Published events, soonest first",
    responses={
        200: {"description": "With a strong `ETag` and `Cache-Control: public, max-age=5`"},
        304: {"description": "`If-None-Match` names the current page"},
        422: PROBLEM,
    },
    openapi_extra={"parameters": query_parameters(ListingParams)},
)
async def list_events(request: Request) -> Response:
    # Served by FastPath (main.py), like the event: it reads its own query (documented above).
    params = parse_query(ListingParams, request)
    page = await provided_by(request.app, Catalog).on_sale_document(**params.model_dump())
    return cached_response(request, page.body, await public_cache_control(request), etag=page.etag)


@events_api.get(
    "/managed",
    response_model=EventPage,
    summary="Events the caller manages, in every status, newest first",
    description="An organizer's own events (drafts, on sale, cancelled); an admin sees every "
    "organizer's, or one's with `organizer_id`; door staff see their organizer's published and "
    "cancelled events.",
    responses=_AUTH | {422: PROBLEM},
)
async def managed_events(
    user: DoorUser,
    catalog: CatalogService,
    response: Response,
    status: EventStatus | None = None,
    organizer_id: Annotated[
        str | None, Query(max_length=64, description="Admins only: one organizer's events")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the title, any case")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = NO_STORE
    return await catalog.managed(
        user, organizer_id=organizer_id, status=status, title=q, limit=limit, cursor=cursor
    )


@events_api.get(
    "/{event_id}",
    response_model=Event,
    openapi_extra=_PUBLIC_EVENT_READ,
    responses={
        200: {
            "description": "With a strong `ETag`; `Cache-Control: public, max-age=5` (a draft, "
            "which only its organizer and admins see: `private, no-cache`)"
        },
        304: {"description": "`If-None-Match` names the current representation"},
        404: PROBLEM,
    },
)
async def get_event(request: Request) -> Response:
    # A third of an on-sale's requests: served by FastPath (main.py), it reads its own inputs
    # (its parameter and security are declared for the OpenAPI schema).
    user = await optional_caller(request)
    catalog = provided_by(request.app, Catalog)
    event, same_for_everyone = await catalog.event_document(user, request.path_params["event_id"])
    cache_control = await public_cache_control(request) if same_for_everyone else PRIVATE
    return cached_response(request, event.body, cache_control, etag=event.etag)


@events_api.patch("/{event_id}", response_model=Event, responses=_MANAGE | {422: PROBLEM})
async def update_event(
    event_id: str, body: EventPatch, user: OrganizerUser, events: EventsService
) -> dict[str, Any]:
    return await events.update(user, event_id, body.model_dump(exclude_unset=True))


@events_api.post(
    "/{event_id}/publish",
    response_model=Event,
    responses=_MANAGE | {503: PROBLEM | {"description": "Inventory unreachable; still a draft"}},
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
    openapi_extra=_PUBLIC_EVENT_READ,
    responses={404: PROBLEM, 502: PROBLEM, 503: PROBLEM},
)
async def seatmap(request: Request) -> Response:
    """Every seat with its live status: the layout merged with inventory's availability.
    Clients that refresh often fetch the two parts instead: `/layout` once (it never changes),
    then inventory's `/availability/bits` (a few hundred bytes per 1,000 seats)."""
    # Served by FastPath (main.py), like the event. Rendered from the layout's cached JSON
    # fragments (seatmap.py), not through the model: the response model documents the shape.
    user = await optional_caller(request)
    catalog = provided_by(request.app, Catalog)
    body = await catalog.seatmap(user, request.path_params["event_id"])
    return Response(body, media_type="application/json")


@events_api.get(
    "/{event_id}/layout",
    response_model=Layout,
    responses={
        200: {
            "description": "The layout, with a strong `ETag`. A published event's layout never "
            "changes: `Cache-Control: public, max-age=31536000, immutable`. A draft's (only its "
            "organizer and admins see it) may change until it is published: "
            "`private, no-cache`. Sent gzipped (`Content-Encoding: gzip`, its own ETag) to "
            "clients that accept it.",
        },
        304: {"description": "`If-None-Match` names the current layout"},
        404: PROBLEM,
    },
)
async def layout(
    event_id: str, user: OptionalUser, catalog: CatalogService, request: Request
) -> Response:
    """Sections, rows and seats with their price tiers (prices in `price_tiers`), without live
    status. Each seat's `bit` is its index in inventory's availability bitmaps
    (`GET /api/v1/inventory/events/{event_id}/availability/bits`): seat `bit` is sold when bit
    `bit` of `sold` is set (most significant bit of byte 0 first), held when that bit of `held`
    is, else available."""
    found, public = await catalog.layout(user, event_id)
    cache_control = IMMUTABLE if public else PRIVATE
    return cached_response(
        request, found.document, cache_control, etag=found.etag, gzipped=found.document_gzip
    )


@events_api.get(
    "/{event_id}/waiting-room",
    response_model=WaitingRoomSettings,
    summary="The event's virtual waiting room settings (off until its organizer turns it on)",
    responses={404: PROBLEM},
)
async def waiting_room(
    event_id: str,
    user: OptionalUser,
    catalog: CatalogService,
    response: Response,
    cache_control: PublicCacheControl,
) -> dict[str, Any]:
    room, same_for_everyone = await catalog.waiting_room(user, event_id)
    response.headers["Cache-Control"] = cache_control if same_for_everyone else PRIVATE
    return room


@events_api.put(
    "/{event_id}/waiting-room",
    response_model=WaitingRoomSettings,
    summary="Turn the event's waiting room on or off and set its limits",
    description="While the room is on, the gateway admits people to shop at "
    "`admission_per_minute`, never more than `max_shoppers` at once, each for "
    "`shopping_minutes`; holds and bookings of the event need the admission token. Who arrives "
    "before `opens_at` is put in a random order at the opening; later arrivals queue in order. "
    "The gateway picks a change up within seconds.",
    responses=_MANAGE | {422: PROBLEM},
)
async def configure_waiting_room(
    event_id: str, body: WaitingRoomSettingsIn, user: OrganizerUser, events: EventsService
) -> dict[str, Any]:
    return await events.configure_waiting_room(user, event_id, body)


@internal.get("/waiting-rooms", response_model=WaitingRooms)
async def waiting_rooms_on(catalog: CatalogService) -> dict[str, Any]:
    """Every waiting room that is on, of events not cancelled: what the gateway enforces."""
    return await catalog.waiting_rooms_on()


@internal.get("/events/{event_id}", response_model=InternalEvent, responses={404: PROBLEM})
async def internal_event(event_id: str, catalog: CatalogService) -> Response:
    # Rendered once per read-cache entry (catalog.py); the response model documents the shape.
    event = await catalog.internal_document(event_id)
    return Response(event.body, media_type="application/json")


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
    "/events/{event_id}/inventory-layout", response_model=InventoryLayout, responses={404: PROBLEM}
)
async def inventory_layout(event_id: str, catalog: CatalogService) -> Response:
    """A published event's seats and standing areas, as inventory is initialised with them."""
    # Up to 150,000 places: serialised as built, like the seat map.
    return Response(
        orjson.dumps(await catalog.inventory_layout(event_id)), media_type="application/json"
    )
