from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from ticketing_common.contracts import (
    AvailabilityBits,
    ClosedOut,
    ConfirmIn,
    ConfirmOut,
    HoldRecord,
    LayoutIn,
    LayoutOut,
    RebuildIn,
    RebuildOut,
    ReleasedOut,
    SoldIn,
)
from ticketing_common.fastpath import parse_body, path_event_id, small_body
from ticketing_common.idempotency import idempotency
from ticketing_common.internal import internal_router
from ticketing_common.problems import PROBLEM
from ticketing_common.resources import provided_by
from ticketing_common.security import CurrentUser, authenticated

from ticketing_inventory.deps import EventId, HoldId, InventoryService
from ticketing_inventory.ids import EVENT_ID_PATTERN
from ticketing_inventory.layout import prepare_layout
from ticketing_inventory.schemas import Availability, Hold, HoldIn
from ticketing_inventory.store import HoldView, Inventory

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"])
internal = internal_router()

_hold_idempotency = idempotency(201)


def _hold(view: HoldView) -> Hold:
    return Hold.model_validate(view.public())


@router.get(
    "/events/{event_id}/availability",
    response_model=Availability,
    response_model_exclude_none=True,
    responses={404: PROBLEM},
)
async def availability(
    event_id: EventId,
    inventory: InventoryService,
    seats: bool = Query(False, description="Add every seat's status"),
) -> Response:
    """Exact counts per section (capacity = available + held + sold; an expired hold is
    available the moment it expires)."""
    answer = await inventory.availability(event_id, seats)
    # Serialised as built: validating 100,000 seat statuses against the model took longer than
    # reading them from Redis.
    return Response(orjson.dumps(answer), media_type="application/json")


# A fast-path route's event id, documented as FastAPI documents `event_id: EventId`.
_EVENT_ID_PARAMETER: dict[str, Any] = {
    "name": "event_id",
    "in": "path",
    "required": True,
    "description": "The event's id",
    "schema": {
        "type": "string",
        "pattern": EVENT_ID_PATTERN,
        "title": "Event Id",
        "description": "The event's id",
    },
}


@router.get(
    "/events/{event_id}/availability/bits",
    response_model=AvailabilityBits,
    openapi_extra={"parameters": [_EVENT_ID_PARAMETER]},
    responses={404: PROBLEM, 422: PROBLEM | {"description": "The event id is malformed"}},
)
async def availability_bits(request: Request) -> Response:
    """The counts per section and every seat's live state as two bitmaps, in the bit order of
    the event's layout (`GET /api/v1/events/{event_id}/layout` gives each seat its `bit`). One
    Redis round trip; live, so never cached (`Cache-Control: no-store`)."""
    # Served by fastpath.FastPath (main.py), as the seat hold is: every seat map a web app
    # refreshes asks it.
    inventory = provided_by(request.app, Inventory)
    answer = await inventory.availability_bits(path_event_id(request))
    return Response(
        orjson.dumps(answer), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


MAX_HOLD_BODY_BYTES = 16 * 1024
_IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Replays the first response for the same key and body",
}


@router.post(
    "/events/{event_id}/holds",
    status_code=201,
    response_model=Hold,
    openapi_extra={
        "parameters": [_EVENT_ID_PARAMETER, _IDEMPOTENCY_KEY_PARAMETER],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": HoldIn.model_json_schema()}},
        },
        "security": [{"HTTPBearer": []}],
    },
    responses={
        401: PROBLEM,
        404: PROBLEM | {"description": "Unknown event, seat or section"},
        409: PROBLEM
        | {
            "description": "Seats taken (`unavailable` lists them; nothing held), too many "
            "active holds, or the event is closed"
        },
        413: PROBLEM,
        422: PROBLEM | {"description": "Invalid body, duplicates, or over the per-hold limit"},
    },
)
async def create_hold(request: Request) -> Response:
    """Hold all the seats (`seat_ids`) or the standing places (`section_id`, `quantity`), or
    none, for the hold TTL. `Idempotency-Key` replays the first answer."""
    # The seat-hold hot path: served by fastpath.FastPath, it reads its own inputs (the
    # parameters and responses above are declared for the OpenAPI schema).
    event_id = path_event_id(request)
    user = await authenticated(request)
    body = parse_body(HoldIn, await small_body(request, MAX_HOLD_BODY_BYTES))
    inventory = provided_by(request.app, Inventory)
    idem = await _hold_idempotency(request, user, request.headers.get("idempotency-key"))

    async def work() -> dict[str, Any]:
        if body.seat_ids is not None:
            view = await inventory.hold_seats(event_id, user.user_id, body.seat_ids)
        else:
            assert body.section_id is not None
            assert body.quantity is not None
            view = await inventory.hold_standing(
                event_id, user.user_id, body.section_id, body.quantity
            )
        return view.public()

    result = await idem.run(work)
    if isinstance(result, Response):
        return result  # a replay
    return Response(orjson.dumps(result), status_code=201, media_type="application/json")


@router.get("/holds/{hold_id}", response_model=Hold, responses={404: PROBLEM})
async def get_hold(hold_id: HoldId, user: CurrentUser, inventory: InventoryService) -> Hold:
    return _hold(await inventory.owned_hold(hold_id, user.user_id))


@router.delete("/holds/{hold_id}", status_code=204, responses={404: PROBLEM, 409: PROBLEM})
async def release_hold(hold_id: HoldId, user: CurrentUser, inventory: InventoryService) -> Response:
    """Release your hold: its seats are available again at once."""
    await inventory.release(hold_id, owner=user.user_id)
    return Response(status_code=204)


# Internal ------------------------------------------------------------------------------------


@internal.put(
    "/events/{event_id}/layout", response_model=LayoutOut, responses={409: PROBLEM, 422: PROBLEM}
)
async def put_layout(event_id: EventId, body: LayoutIn, inventory: InventoryService) -> LayoutOut:
    """Initialise an event's inventory (idempotent; a different layout is refused)."""
    layout = prepare_layout(body)
    created = await inventory.init_layout(event_id, layout)
    return LayoutOut(event_id=event_id, created=created, capacity=layout.capacity)


@internal.get("/holds/{hold_id}", response_model=HoldRecord, responses={404: PROBLEM})
async def hold_record(hold_id: HoldId, inventory: InventoryService) -> HoldRecord:
    view = await inventory.hold(hold_id)
    return HoldRecord(**_hold(view).model_dump(), booking_id=view.booking_id)


@internal.post(
    "/holds/{hold_id}/confirm", response_model=ConfirmOut, responses={404: PROBLEM, 409: PROBLEM}
)
async def confirm_hold(hold_id: HoldId, body: ConfirmIn, inventory: InventoryService) -> ConfirmOut:
    """Sell the hold to the booking (idempotent). With `claim`, a hold whose record was lost is
    confirmed from it: its seats are sold if they are free."""
    view, reclaimed = await inventory.confirm(hold_id, body.booking_id, body.claim)
    return ConfirmOut(
        hold_id=hold_id,
        booking_id=body.booking_id,
        event_id=view.event_id,
        seat_ids=view.seat_ids,
        section_id=view.section_id,
        quantity=view.quantity,
        reclaimed=reclaimed,
    )


@internal.post("/holds/{hold_id}/release", status_code=204, responses={404: PROBLEM, 409: PROBLEM})
async def release_hold_for_service(hold_id: HoldId, inventory: InventoryService) -> Response:
    await inventory.release(hold_id, owner=None)
    return Response(status_code=204)


@internal.post(
    "/events/{event_id}/release-sold", response_model=ReleasedOut, responses={404: PROBLEM}
)
async def release_sold(event_id: EventId, body: SoldIn, inventory: InventoryService) -> ReleasedOut:
    """Give back what a refunded booking bought (idempotent per booking)."""
    seats, places = await inventory.release_sold(
        event_id, body.booking_id, body.seat_ids, body.section_id, body.quantity
    )
    return ReleasedOut(
        event_id=event_id,
        booking_id=body.booking_id,
        released_seat_ids=seats,
        released_quantity=places,
    )


@internal.post(
    "/events/{event_id}/rebuild",
    response_model=RebuildOut,
    responses={409: PROBLEM, 422: PROBLEM},
)
async def rebuild(event_id: EventId, body: RebuildIn, inventory: InventoryService) -> RebuildOut:
    """Re-create the event's state from its layout, its sales and the holds of bookings awaiting
    payment (`holds`). Other holds lapse; confirming one later re-claims its seats if they are
    free. Inventory does this by itself after a cache loss (see the README)."""
    layout = prepare_layout(body.layout)
    rebuilt = await inventory.rebuild(event_id, layout, body.sold, body.holds)
    assert rebuilt is not None  # a forced rebuild always rebuilds
    return RebuildOut(
        event_id=event_id,
        capacity=layout.capacity,
        sold=rebuilt.sold,
        status=rebuilt.status,
        holds_restored=rebuilt.holds_restored,
        holds_skipped=rebuilt.holds_skipped,
    )


@internal.post("/events/{event_id}/close", response_model=ClosedOut, responses={404: PROBLEM})
async def close_event(event_id: EventId, inventory: InventoryService) -> ClosedOut:
    """No new holds from now on (the event was cancelled); existing state is untouched."""
    await inventory.close(event_id)
    return ClosedOut(event_id=event_id, status="closed")
