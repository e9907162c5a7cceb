from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from ticketing_common.contracts import Sales
from ticketing_common.fastpath import parse_query, path_parameter, query_parameters
from ticketing_common.idempotency import Idempotency, idempotency
from ticketing_common.internal import internal_router
from ticketing_common.problems import PROBLEM, ProblemType, conflict, forbidden
from ticketing_common.resources import provided_by
from ticketing_common.security import CurrentUser, authenticated

from ticketing_booking.deps import Saga
from ticketing_booking.saga import BookingSaga
from ticketing_booking.schemas import (
    BookingIn,
    BookingOut,
    BookingPage,
    ListingQuery,
    PublicKey,
    TicketOut,
)
from ticketing_booking.tickets import qr_svg

router = APIRouter(prefix="/api/v1/bookings", tags=["bookings"])
internal = internal_router()


@router.post(
    "",
    status_code=201,
    response_model=BookingOut,
    responses={
        404: PROBLEM | {"description": "Unknown hold"},
        409: PROBLEM | {"description": "Hold expired, used, or not the caller's"},
    },
)
async def book(
    body: BookingIn,
    user: CurrentUser,
    saga: Saga,
    idem: Annotated[Idempotency, Depends(idempotency(201))],
) -> Any:
    """Book the caller's hold: the booking is `pending_payment` with a payment to confirm.
    Booking the same hold again returns the same booking."""

    async def work() -> dict[str, Any]:
        booking, _ = await saga.book(user, body.hold_id)
        return BookingOut.model_validate(booking.public()).model_dump(mode="json")

    result = await idem.run(work)
    return result if isinstance(result, Response) else _json(result, 201)  # or a replay


@router.get(
    "",
    response_model=BookingPage,
    # As FastAPI documents the query and `user: CurrentUser`: the route reads its own inputs.
    openapi_extra={"parameters": query_parameters(ListingQuery), "security": [{"HTTPBearer": []}]},
    responses={403: PROBLEM, 422: PROBLEM},
)
async def list_bookings(request: Request) -> Response:
    """The caller's bookings; organizers and admins: `?event_id=` for an event they own. Either
    list may be narrowed to one `status` or the bookings holding a `seat_id`."""
    # Served by fastpath.FastPath (main.py), as GET a booking is.
    user = await authenticated(request)
    query = parse_query(ListingQuery, request)
    saga = provided_by(request.app, BookingSaga)
    filters = {"status": query.status, "seat_id": query.seat_id}
    limit, cursor, event_id = query.limit, query.cursor, query.event_id
    if event_id is None:
        items, next_cursor = await saga.store.listing(
            limit, cursor, user_id=user.user_id, **filters
        )
    else:
        if user.role not in ("organizer", "admin"):
            raise forbidden("Only organizers and admins list an event's bookings")
        if not user.is_admin and await saga.events.organizer_of(event_id) != user.user_id:
            raise forbidden("This event is not yours")
        items, next_cursor = await saga.store.listing(limit, cursor, event_id=event_id, **filters)
    return _json({"items": items, "next_cursor": next_cursor})


@router.get("/tickets/public-key", response_model=PublicKey)
async def ticket_public_key(saga: Saga, response: Response) -> Any:
    """The key scanners verify ticket secrets with, offline."""
    response.headers["Cache-Control"] = "public, max-age=3600"
    return saga.signer.public_key_document()


@router.get(
    "/{booking_id}",
    response_model=BookingOut,
    # As FastAPI documents `booking_id: str, user: CurrentUser`: the route reads its own inputs.
    openapi_extra={"parameters": [path_parameter("booking_id")], "security": [{"HTTPBearer": []}]},
    responses={404: PROBLEM},
)
async def get_booking(request: Request) -> Response:
    # Served by fastpath.FastPath (main.py): a customer's page polls it while paying.
    user = await authenticated(request)
    saga = provided_by(request.app, BookingSaga)
    return _json((await saga.visible(user, request.path_params["booking_id"])).public())


def _json(content: dict[str, Any], status_code: int = 200) -> Response:
    """A body of our own making (Booking.public(), the response model's shape) serialised once:
    FastAPI would validate it against the model and serialise it again. Datetimes as pydantic
    writes them (UTC as `Z`)."""
    return Response(
        orjson.dumps(content, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
    )


@router.post(
    "/{booking_id}/cancel",
    response_model=BookingOut,
    responses={404: PROBLEM, 409: PROBLEM},
)
async def cancel_booking(booking_id: str, user: CurrentUser, saga: Saga) -> Any:
    """Unpaid → `cancelled` (seats released at once); paid → refunded → `refunded`."""
    return _json((await saga.cancel(user, booking_id)).public())


@router.get(
    "/{booking_id}/tickets",
    response_model=list[TicketOut],
    responses={404: PROBLEM, 409: PROBLEM | {"description": "Not confirmed"}},
)
async def tickets(booking_id: str, user: CurrentUser, saga: Saga) -> Any:
    booking = await saga.visible(user, booking_id)
    if booking.status != "confirmed":
        raise conflict(
            f"Tickets exist only for confirmed bookings (this one is {booking.status})",
            ProblemType.NOT_CONFIRMED,
            booking_status=booking.status,
        )
    return [
        {
            "ticket_id": ticket.ticket_id,
            "seat_id": ticket.seat_id,
            "secret": ticket.secret,
            "qr_svg": qr_svg(ticket.secret),
        }
        for ticket in booking.tickets
    ]


@internal.get("/events/{event_id}/sold", response_model=Sales)
async def sold(event_id: str, saga: Saga) -> Any:
    """What is sold for an event, per booking, and the holds of bookings awaiting payment
    (inventory rebuilds and reconciles its state from this)."""
    bookings = await saga.store.all_for_event(event_id)
    now = datetime.now(UTC)
    return {
        "sold": [b.sold_entry() for b in bookings if b.status == "confirmed"],
        "holds": [hold for b in bookings if (hold := b.live_hold(now)) is not None],
        "unsettled": [b.booking_id for b in bookings if b.unsettled],
    }
