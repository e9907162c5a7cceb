"""Door check-in: a ticket's first scan lets its holder in; every later scan is told who scanned
it first, where and when.

Scanners verify ticket signatures offline and queue their scans; when they reach the server the
scans are recorded here, each as one conditional write in the bookings table:

| booking_id (hash key)  | what                                                                 |
|------------------------|----------------------------------------------------------------------|
| `checkin#<ticket_id>`  | the ticket's first scan (event-index `__checkins__#<event_id>`)      |

`attribute_not_exists` makes the first write win, on any number of devices and instances; the
scan's own `scan_id` makes resending it (a sync retried after a lost answer) an idempotent replay
rather than a second use. Tickets of bookings that are no longer confirmed (refunded, cancelled
with the event) are refused here and listed in the event's revocation list, which scanners
download to refuse them offline too.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from ticketing_common.security import Principal

from ticketing_booking.dynamo import (
    EVENT_INDEX,
    decode_cursor,
    encode_cursor,
    from_attributes,
    to_attributes,
)
from ticketing_booking.models import Booking
from ticketing_booking.owners import EventOwners
from ticketing_booking.store import BookingStore
from ticketing_booking.tickets import InvalidTicket, TicketSigner, verify

log = logging.getLogger(__name__)

CHECKIN_PARTITION = "__checkins__#"
Result = Literal["valid", "already_used", "revoked", "wrong_event", "invalid"]
PARALLEL_TICKETS = 16  # tickets of one sync recorded at once (each its own conditional write)

DETAILS: dict[Result, str] = {
    "valid": "Valid ticket: let them in.",
    "already_used": "This ticket has already been used.",
    "revoked": "This ticket was cancelled or refunded and is no longer valid.",
    "wrong_event": "This ticket is for another event.",
    "invalid": "This is not a genuine ticket.",
}


@dataclass(frozen=True, slots=True)
class Scan:
    scan_id: str
    secret: str
    device_id: str
    scanned_at: datetime


def checkin_key(ticket_id: str) -> str:
    return f"checkin#{ticket_id}"


class CheckInStore:
    """The check-in items of the bookings table."""

    def __init__(self, store: BookingStore) -> None:
        self.dynamo = store.dynamo
        self.table = store.table

    async def record(self, event_id: str, claims: dict[str, Any], scan: Scan) -> dict[str, Any]:
        """The ticket's first check-in: this scan's, if no scan came first."""
        item = {
            "booking_id": checkin_key(claims["tid"]),
            "kind": "checkin",
            "event_id": CHECKIN_PARTITION + event_id,
            "ticket_id": claims["tid"],
            "owner": claims["bid"],
            "seat_id": claims["seat"],
            "scan_id": scan.scan_id,
            "device_id": scan.device_id,
            "scanned_at": scan.scanned_at.isoformat(),
            "recorded_at": datetime.now(UTC).isoformat(),
        }
        try:
            await self.dynamo.client.put_item(
                TableName=self.table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(booking_id)",
            )
            return item
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        reply = await self.dynamo.client.get_item(
            TableName=self.table,
            Key=to_attributes({"booking_id": checkin_key(claims["tid"])}),
            ConsistentRead=True,
        )
        return from_attributes(reply["Item"])

    async def page(
        self, event_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": EVENT_INDEX,
            "KeyConditionExpression": "event_id = :p",
            "ExpressionAttributeValues": to_attributes({":p": CHECKIN_PARTITION + event_id}),
            "Limit": limit,
        }
        if cursor:
            arguments["ExclusiveStartKey"] = decode_cursor(cursor)
        page = await self.dynamo.client.query(**arguments)
        items = [from_attributes(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return items, encode_cursor(last) if last else None

    async def count(self, event_id: str) -> int:
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": EVENT_INDEX,
            "KeyConditionExpression": "event_id = :p",
            "ExpressionAttributeValues": to_attributes({":p": CHECKIN_PARTITION + event_id}),
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = await self.dynamo.client.query(**arguments)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def checkin_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": item["ticket_id"],
        "booking_id": item["owner"],
        "seat_id": item["seat_id"],
        "scan_id": item["scan_id"],
        "device_id": item["device_id"],
        "scanned_at": item["scanned_at"],
        "recorded_at": item["recorded_at"],
    }


class Door:
    def __init__(
        self, store: BookingStore, checkins: CheckInStore, signer: TicketSigner, owners: EventOwners
    ) -> None:
        self.store = store
        self.checkins = checkins
        self.signer = signer
        self.owners = owners

    async def check_in(
        self, user: Principal, event_id: str, scans: list[Scan]
    ) -> list[dict[str, Any]]:
        """One result per scan, in order. Scans of one ticket are decided in the order given (the
        first valid, the rest already used); different tickets in parallel."""
        await self.owners.check(user, event_id, "check tickets in for this event")
        results: list[dict[str, Any] | None] = [None] * len(scans)
        by_ticket: dict[str, list[tuple[int, Scan, dict[str, Any]]]] = defaultdict(list)
        for index, scan in enumerate(scans):
            try:
                claims = verify(scan.secret, self.signer.public_key)
                if not isinstance(claims, dict) or not all(
                    isinstance(claims.get(k), str) for k in ("tid", "bid", "eid", "seat")
                ):
                    raise InvalidTicket("the ticket's payload is incomplete")
            except InvalidTicket:
                results[index] = _result(scan, "invalid")
                continue
            if claims["eid"] != event_id:
                results[index] = _result(scan, "wrong_event", claims)
                continue
            by_ticket[claims["tid"]].append((index, scan, claims))

        bookings: dict[str, Booking | None] = {}
        limit = asyncio.Semaphore(PARALLEL_TICKETS)

        async def decide(group: list[tuple[int, Scan, dict[str, Any]]]) -> None:
            async with limit:
                booking_id = group[0][2]["bid"]
                if booking_id not in bookings:
                    bookings[booking_id] = await self.store.get(booking_id)
                booking = bookings[booking_id]
                for index, scan, claims in group:
                    results[index] = await self._decide(event_id, booking, scan, claims)

        await asyncio.gather(*(decide(group) for group in by_ticket.values()))
        decided = [result for result in results if result is not None]
        log.info(
            "scans synced",
            extra={
                "event_id": event_id,
                "scans": len(scans),
                "valid": sum(1 for r in decided if r["result"] == "valid"),
            },
        )
        return decided

    async def _decide(
        self, event_id: str, booking: Booking | None, scan: Scan, claims: dict[str, Any]
    ) -> dict[str, Any]:
        if booking is None or booking.event_id != event_id:
            return _result(scan, "invalid", claims)
        if claims["tid"] not in {ticket.ticket_id for ticket in booking.tickets}:
            return _result(scan, "invalid", claims)
        if booking.status != "confirmed":
            return _result(scan, "revoked", claims, booking_status=booking.status)
        first = await self.checkins.record(event_id, claims, scan)
        result: Result = "valid" if first["scan_id"] == scan.scan_id else "already_used"
        return _result(scan, result, claims, first_scan=checkin_view(first))

    async def revocations(self, user: Principal, event_id: str) -> dict[str, Any]:
        """Every ticket issued for the event whose booking is no longer confirmed."""
        await self.owners.check(user, event_id, "check tickets in for this event")
        revoked = [
            {
                "ticket_id": ticket.ticket_id,
                "booking_id": booking.booking_id,
                "seat_id": ticket.seat_id,
                "status": booking.status,
            }
            for booking in await self.store.all_for_event(event_id)
            if booking.status != "confirmed"
            for ticket in booking.tickets
        ]
        return {
            "event_id": event_id,
            "generated_at": datetime.now(UTC),
            "event_cancelled": await self.store.event_cancelled(event_id),
            "tickets": revoked,
        }

    async def checked_in(
        self, user: Principal, event_id: str, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        await self.owners.check(user, event_id, "check tickets in for this event")
        items, next_cursor = await self.checkins.page(event_id, limit, cursor)
        return {"items": [checkin_view(item) for item in items], "next_cursor": next_cursor}


def _result(
    scan: Scan,
    result: Result,
    claims: dict[str, Any] | None = None,
    *,
    first_scan: dict[str, Any] | None = None,
    booking_status: str | None = None,
) -> dict[str, Any]:
    claims = claims or {}
    return {
        "scan_id": scan.scan_id,
        "result": result,
        "detail": DETAILS[result],
        "ticket_id": claims.get("tid"),
        "booking_id": claims.get("bid"),
        "event_id": claims.get("eid"),
        "seat_id": claims.get("seat"),
        "booking_status": booking_status,
        "first_scan": first_scan,
    }
