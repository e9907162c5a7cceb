"""The organizer console's routes (sales, export, refunds) and the door's (check-in, revocation
list), beside the customer's in api.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from ticketing_common.problems import PROBLEM
from ticketing_common.security import DoorUser, OrganizerUser

from ticketing_booking.console import Interval
from ticketing_booking.deps import Console, DoorService
from ticketing_booking.door import Scan
from ticketing_booking.schemas import (
    BookingOut,
    BookingStatus,
    CheckInPage,
    CheckInResults,
    CheckInsIn,
    RefundIn,
    Revocations,
    SalesSummary,
)

console = APIRouter(prefix="/api/v1/bookings", tags=["organizer console"])
door = APIRouter(prefix="/api/v1/bookings", tags=["door check-in"])

_EVENT: dict[int | str, dict[str, Any]] = {
    401: PROBLEM,
    403: PROBLEM | {"description": "Not the event's organizer (or their staff, at the door)"},
    404: PROBLEM | {"description": "No such event"},
    422: PROBLEM,
}
# One caller's view of an event's customers: never kept by a shared cache.
PRIVATE = "private, no-store"


@console.get(
    "/events/{event_id}/sales",
    response_model=SalesSummary,
    summary="An event's sales: seats per section, revenue, bookings by status, sales over time",
    description="For the event's organizer and admins. Seats are live from inventory; the rest "
    "is computed from every booking of the event and shared by viewers for "
    "`SALES_SUMMARY_CACHE_S` (2 s).",
    responses=_EVENT | {503: PROBLEM},
)
async def sales(
    event_id: str,
    user: OrganizerUser,
    console_service: Console,
    response: Response,
    interval: Interval = "hour",
) -> Any:
    response.headers["Cache-Control"] = PRIVATE
    return await console_service.summary(user, event_id, interval)


@console.get(
    "/events/{event_id}/export",
    summary="Every booking of the event as CSV (with each customer's name and email)",
    response_class=Response,
    responses=_EVENT | {200: {"content": {"text/csv": {}}, "description": "RFC 4180 CSV"}},
)
async def export(
    event_id: str,
    user: OrganizerUser,
    console_service: Console,
    status: BookingStatus | None = None,
) -> Response:
    body = await console_service.export(user, event_id, status)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
    return Response(
        body.encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="bookings-{event_id}-{stamp}.csv"',
            "Cache-Control": PRIVATE,
        },
    )


@console.post(
    "/{booking_id}/refund",
    response_model=BookingOut,
    summary="Refund a paid booking (the event's organizer, admins)",
    description="The payment is refunded, the seats go back on sale and the tickets are revoked "
    "(the door refuses them once its scanners have synced). Refunding again returns the "
    "refunded booking.",
    responses={
        401: PROBLEM,
        403: PROBLEM,
        404: PROBLEM,
        409: PROBLEM | {"description": "Not confirmed (nothing was paid, or it is settling)"},
        422: PROBLEM,
    },
)
async def refund(
    booking_id: str, user: OrganizerUser, console_service: Console, body: RefundIn | None = None
) -> Any:
    booking = await console_service.refund(user, booking_id, body.reason if body else None)
    return booking.public()


@door.post(
    "/events/{event_id}/checkins",
    response_model=CheckInResults,
    summary="Record scans at the door (idempotent): valid, already used, revoked, ...",
    description="Scanners verify each ticket's signature offline and send their scans here, "
    "one or up to 200 at a time (a queue synced after an outage). A ticket's first scan is "
    "`valid`; any other scan of it, on any device, is `already_used` with the first one's "
    "device and time; resending a scan (same `scan_id`) repeats its answer. A ticket whose "
    "booking is no longer confirmed is `revoked`. For the event's organizer, their staff, "
    "admins.",
    responses=_EVENT,
)
async def check_in(
    event_id: str, body: CheckInsIn, user: DoorUser, door_service: DoorService
) -> Any:
    now = datetime.now(UTC)
    scans = [
        Scan(scan.scan_id, scan.secret, scan.device_id, (scan.scanned_at or now).astimezone(UTC))
        for scan in body.scans
    ]
    return {"results": await door_service.check_in(user, event_id, scans)}


@door.get(
    "/events/{event_id}/checkins",
    response_model=CheckInPage,
    summary="The event's checked-in tickets (each with its first scan)",
    description="Scanners download it when they sync, so a ticket another device let in is "
    "refused offline too.",
    responses=_EVENT,
)
async def checkins(
    event_id: str,
    user: DoorUser,
    door_service: DoorService,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Any:
    response.headers["Cache-Control"] = PRIVATE
    return await door_service.checked_in(user, event_id, limit, cursor)


@door.get(
    "/events/{event_id}/revocations",
    response_model=Revocations,
    summary="Tickets no longer valid: their booking was refunded or cancelled",
    responses=_EVENT,
)
async def revocations(
    event_id: str, user: DoorUser, door_service: DoorService, response: Response
) -> Any:
    response.headers["Cache-Control"] = PRIVATE
    return await door_service.revocations(user, event_id)
