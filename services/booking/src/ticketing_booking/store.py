"""Bookings in DynamoDB, and the items that keep the saga honest, all in `ticketing-bookings`:

| booking_id (hash key)            | what                                                        |
|----------------------------------|-------------------------------------------------------------|
| `<uuid>`                         | a booking (`kind=booking`; in user-index and event-index)   |
| `hold#<hold_id>`                 | the one booking made from a hold                            |
| `seat#<event_id>#<seat_id>`      | a seat claim: the durable guard against selling it twice    |
| `standing#<event_id>#<section>`  | sold count of a standing section (bounded by its capacity)  |
| `cancelled-event#<event_id>`     | the event was cancelled: nothing may be confirmed any more  |
| `expiry#<booking_id>`            | a pending booking's deadline (event-index `__expiry__#<n>`) |
| `outbox#<envelope_id>`           | a fact not yet published (event-index `__outbox__#<n>`)     |

Every status change is conditioned on the version the decision was based on: when two messages
race, one wins and the other re-reads and decides again (no lost update).

A confirmed booking changes only when it is cancelled or refunded, and customers read theirs
over and over (polling until it settles, fetching tickets): `get(cached=True)` serves those reads
from memory for `confirmed_ttl_s`. Every write through this process replaces or drops its entry
at once; a cancel through another instance is seen here within the TTL. Decisions (the saga's
steps) always read DynamoDB.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from ticketing_common.facts import FactData

from ticketing_booking.dynamo import (
    EVENT_INDEX,
    USER_INDEX,
    DynamoDB,
    decode_cursor,
    encode_cursor,
    from_attributes,
    shard_of,
    to_attributes,
)
from ticketing_booking.models import PUBLIC_ATTRIBUTES, Booking, public_of_item
from ticketing_booking.outbox import Outbox

log = logging.getLogger(__name__)

EXPIRY_PARTITION = "__expiry__#"
SHARDS = 4  # reserved event-index partitions for deadlines


class Conflict(Exception):
    """The booking changed since it was read: read it again and decide again."""


class HoldAlreadyBooked(Exception):
    pass


class SeatsClaimed(Exception):
    """The durable guard tripped: these seats are claimed by another booking."""

    def __init__(self, seat_ids: list[str]) -> None:
        super().__init__(", ".join(seat_ids))
        self.seat_ids = seat_ids


class SectionSoldOut(Exception):
    pass


class EventCancelled(Exception):
    pass


@dataclass(frozen=True)
class Standing:
    section_id: str
    quantity: int
    capacity: int


def seat_key(event_id: str, seat_id: str) -> str:
    return f"seat#{event_id}#{seat_id}"


class ConfirmedCache:
    """Confirmed bookings by id for `ttl_s` (0: off), least recently used out first."""

    def __init__(self, ttl_s: float, size: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: OrderedDict[str, tuple[float, Booking]] = OrderedDict()

    def get(self, booking_id: str) -> Booking | None:
        entry = self._entries.get(booking_id)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[booking_id]
            return None
        self._entries.move_to_end(booking_id)
        return entry[1]

    def remember(self, booking: Booking) -> None:
        """Keep a booking just read or written if it is confirmed; forget it otherwise."""
        if booking.status != "confirmed" or self.ttl_s <= 0:
            self._entries.pop(booking.booking_id, None)
            return
        self._entries[booking.booking_id] = (time.monotonic() + self.ttl_s, booking)
        self._entries.move_to_end(booking.booking_id)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, booking_id: str) -> None:
        self._entries.pop(booking_id, None)


class BookingStore:
    def __init__(self, dynamo: DynamoDB, outbox: Outbox, *, confirmed_ttl_s: float = 5.0) -> None:
        self.dynamo = dynamo
        self.outbox = outbox
        self.table = dynamo.table
        self.confirmed = ConfirmedCache(confirmed_ttl_s)

    # --- reads ------------------------------------------------------------------------------

    async def get(self, booking_id: str, *, cached: bool = False) -> Booking | None:
        """The booking (a consistent read), or with `cached` a confirmed one from memory."""
        if cached and (booking := self.confirmed.get(booking_id)) is not None:
            return booking
        item = await self._get(booking_id)
        if not item or item.get("kind") != "booking":
            self.confirmed.forget(booking_id)
            return None
        booking = Booking.from_item(item)
        self.confirmed.remember(booking)
        return booking

    async def booking_for_hold(self, hold_id: str) -> str | None:
        item = await self._get(f"hold#{hold_id}")
        return item["owner"] if item else None

    async def event_cancelled(self, event_id: str) -> bool:
        return await self._get(f"cancelled-event#{event_id}") is not None

    async def listing(
        self,
        limit: int,
        cursor: str | None,
        *,
        user_id: str | None = None,
        event_id: str | None = None,
        status: str | None = None,
        seat_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a user's (or an event's) bookings in their public form, optionally only
        those in `status` or holding `seat_id`: one Query reading only the public attributes."""
        if user_id is not None:
            index, key, value = USER_INDEX, "user_id", user_id
        elif event_id is not None:
            index, key, value = EVENT_INDEX, "event_id", event_id
        else:
            raise ValueError("a listing is of a user's or an event's bookings")
        items, next_cursor = await self._page(
            index, key, value, limit, cursor, status, seat_id, PUBLIC_ATTRIBUTES
        )
        return [public_of_item(item) for item in items], next_cursor

    async def event_bookings(
        self,
        event_id: str,
        limit: int,
        cursor: str | None,
        *,
        status: str | None = None,
        seat_id: str | None = None,
    ) -> tuple[list[Booking], str | None]:
        """One page of an event's bookings, narrowed like `listing`."""
        items, next_cursor = await self._page(
            EVENT_INDEX, "event_id", event_id, limit, cursor, status, seat_id
        )
        return [Booking.from_item(item) for item in items], next_cursor

    async def _page(
        self,
        index: str,
        key: str,
        value: str,
        limit: int,
        cursor: str | None,
        status: str | None,
        seat_id: str | None,
        attributes: Sequence[str] = (),
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of booking items from a GSI (`user-index`/`user_id`, `event-index`/
        `event_id`), optionally only those in `status` or holding `seat_id`, with only
        `attributes` read when given."""
        condition = "kind = :booking"
        values: dict[str, Any] = {":v": value, ":booking": "booking"}
        names = {"#k": key}
        if status is not None:
            condition += " AND #s = :status"
            names["#s"] = "status"
            values[":status"] = status
        if seat_id is not None:
            condition += " AND contains(seat_ids, :seat)"
            values[":seat"] = seat_id
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "FilterExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_attributes(values),
            "Limit": limit,
        }
        if attributes:  # as names: several (status, reason) are DynamoDB reserved words
            projected = {f"#p{n}": name for n, name in enumerate(attributes)}
            names.update(projected)
            arguments["ProjectionExpression"] = ", ".join(projected)
        if cursor:
            arguments["ExclusiveStartKey"] = decode_cursor(cursor)
        items: list[dict[str, Any]] = []
        while True:
            page = await self.dynamo.client.query(**arguments)
            items.extend(from_attributes(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if last is None:
                return items, None
            if len(items) >= limit:
                return items, encode_cursor(last)
            arguments["ExclusiveStartKey"] = last

    async def all_for_event(self, event_id: str) -> list[Booking]:
        bookings: list[Booking] = []
        cursor = None
        while True:
            page, cursor = await self.event_bookings(event_id, 500, cursor)
            bookings.extend(page)
            if cursor is None:
                return bookings

    async def due_expiries(self, before: datetime) -> list[str]:
        due: list[str] = []
        for shard in range(SHARDS):
            arguments: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": EVENT_INDEX,
                "KeyConditionExpression": "event_id = :p",
                "FilterExpression": "expires_at <= :before",
                "ExpressionAttributeValues": to_attributes(
                    {":p": EXPIRY_PARTITION + str(shard), ":before": before.isoformat()}
                ),
            }
            while True:
                page = await self.dynamo.client.query(**arguments)
                due.extend(from_attributes(i)["owner"] for i in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return due

    # --- writes -----------------------------------------------------------------------------

    async def create(self, booking: Booking) -> None:
        """The booking, the hold's one-booking marker and the booking's deadline, together."""
        operations = [
            self._put_booking(booking, new=True),
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_attributes(
                        {
                            "booking_id": f"hold#{booking.hold_id}",
                            "kind": "hold",
                            "owner": booking.booking_id,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(booking_id)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_attributes(
                        {
                            "booking_id": f"expiry#{booking.booking_id}",
                            "kind": "expiry",
                            "event_id": EXPIRY_PARTITION
                            + str(shard_of(booking.booking_id, SHARDS)),
                            "owner": booking.booking_id,
                            "expires_at": booking.hold_expires_at.isoformat(),
                        }
                    ),
                }
            },
        ]
        reasons = await self._transact(operations, [])
        if reasons is not None:
            if reasons[1] == "ConditionalCheckFailed":
                raise HoldAlreadyBooked(booking.hold_id)
            raise Conflict(booking.booking_id)

    async def save(
        self, before: Booking, after: Booking, facts: Sequence[FactData] = ()
    ) -> Booking:
        """Write `after` if the booking is still at `before`'s version. A booking leaving
        `pending_payment` drops its deadline in the same transaction."""
        operations = [self._put_booking(after, expected_version=before.version)]
        if before.status == "pending_payment" and after.status != "pending_payment":
            operations.append(self._delete(f"expiry#{after.booking_id}"))
        self.confirmed.forget(after.booking_id)
        if len(operations) == 1 and not facts:
            await self._put(operations[0]["Put"], before.booking_id)  # no transaction needed
        elif await self._transact(operations, facts) is not None:
            raise Conflict(before.booking_id)
        self.confirmed.remember(after)
        return after

    async def confirm(
        self,
        before: Booking,
        after: Booking,
        facts: Sequence[FactData],
        standing: Standing | None,
    ) -> Booking:
        """Confirmed booking + one claim per seat (attribute_not_exists: no seat is ever claimed
        by two bookings) + the event is not cancelled — in one transaction."""
        operations = [self._put_booking(after, expected_version=before.version)]
        if before.status == "pending_payment":
            operations.append(self._delete(f"expiry#{after.booking_id}"))
        operations.append(
            {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": to_attributes({"booking_id": f"cancelled-event#{after.event_id}"}),
                    "ConditionExpression": "attribute_not_exists(booking_id)",
                }
            }
        )
        first_claim = len(operations)
        for seat_id in after.seat_ids:
            operations.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_attributes(
                            {
                                "booking_id": seat_key(after.event_id, seat_id),
                                "kind": "seat_claim",
                                "owner": after.booking_id,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(booking_id) OR #o = :me",
                        "ExpressionAttributeNames": {"#o": "owner"},
                        "ExpressionAttributeValues": to_attributes({":me": after.booking_id}),
                    }
                }
            )
        if standing is not None:
            operations.append(self._count_standing(after.event_id, standing, +1))
        self.confirmed.forget(after.booking_id)
        reasons = await self._transact(operations, facts)
        if reasons is None:
            self.confirmed.remember(after)
            return after
        if reasons[0] == "ConditionalCheckFailed":
            raise Conflict(before.booking_id)
        cancelled_check = first_claim - 1
        if reasons[cancelled_check] == "ConditionalCheckFailed":
            raise EventCancelled(after.event_id)
        claimed = [
            seat_id
            for seat_id, reason in zip(after.seat_ids, reasons[first_claim:], strict=False)
            if reason == "ConditionalCheckFailed"
        ]
        if claimed:
            raise SeatsClaimed(claimed)
        if standing is not None and reasons[-1] == "ConditionalCheckFailed":
            raise SectionSoldOut(standing.section_id)
        raise Conflict(before.booking_id)

    async def release(
        self,
        before: Booking,
        after: Booking,
        facts: Sequence[FactData],
        standing: Standing | None,
    ) -> Booking:
        """A confirmed booking gives its seats back: the claims it owns go with the change."""
        operations = [self._put_booking(after, expected_version=before.version)]
        for seat_id in before.seat_ids:
            operations.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": to_attributes({"booking_id": seat_key(before.event_id, seat_id)}),
                        "ConditionExpression": "attribute_not_exists(booking_id) OR #o = :me",
                        "ExpressionAttributeNames": {"#o": "owner"},
                        "ExpressionAttributeValues": to_attributes({":me": before.booking_id}),
                    }
                }
            )
        if standing is not None:
            operations.append(self._count_standing(before.event_id, standing, -1))
        self.confirmed.forget(after.booking_id)
        if await self._transact(operations, facts) is not None:
            raise Conflict(before.booking_id)
        self.confirmed.remember(after)
        return after

    async def mark_event_cancelled(self, event_id: str) -> None:
        await self.dynamo.client.put_item(
            TableName=self.table,
            Item=to_attributes(
                {"booking_id": f"cancelled-event#{event_id}", "kind": "cancelled_event"}
            ),
        )

    async def drop_expiry(self, booking_id: str) -> None:
        await self.dynamo.client.delete_item(
            TableName=self.table, Key=to_attributes({"booking_id": f"expiry#{booking_id}"})
        )

    # --- helpers ----------------------------------------------------------------------------

    async def _get(self, key: str) -> dict[str, Any] | None:
        reply = await self.dynamo.client.get_item(
            TableName=self.table, Key=to_attributes({"booking_id": key}), ConsistentRead=True
        )
        return from_attributes(reply["Item"]) if "Item" in reply else None

    async def _put(self, put: dict[str, Any], booking_id: str) -> None:
        """One conditional PutItem; a failed condition is a Conflict."""
        try:
            await self.dynamo.client.put_item(**put)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict(booking_id) from exc
            raise

    def _put_booking(
        self, booking: Booking, *, new: bool = False, expected_version: int | None = None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": to_attributes(booking.to_item())}
        if new:
            put["ConditionExpression"] = "attribute_not_exists(booking_id)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = to_attributes({":v": expected_version})
        return {"Put": put}

    def _delete(self, key: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table, "Key": to_attributes({"booking_id": key})}}

    def _count_standing(self, event_id: str, standing: Standing, sign: int) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_attributes({"booking_id": f"standing#{event_id}#{standing.section_id}"}),
            "UpdateExpression": "SET sold = if_not_exists(sold, :zero) + :n, kind = :kind",
            "ExpressionAttributeValues": to_attributes(
                {":zero": 0, ":n": sign * standing.quantity, ":kind": "standing_count"}
            ),
        }
        if sign > 0:
            update["ConditionExpression"] = "attribute_not_exists(sold) OR sold <= :room"
            update["ExpressionAttributeValues"].update(
                to_attributes({":room": standing.capacity - standing.quantity})
            )
        return {"Update": update}

    async def _transact(
        self, operations: list[dict[str, Any]], facts: Sequence[FactData]
    ) -> list[str] | None:
        """Run one transaction with the facts' outbox items. None on success; the per-operation
        cancellation reasons when a condition failed."""
        envelopes = self.outbox.envelopes(facts)
        try:
            await self.dynamo.client.transact_write_items(
                TransactItems=operations + self.outbox.puts(envelopes)
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if not reasons:  # some endpoints put them only in the message
                reasons = _reasons_from_message(error.get("Message", ""))
            if "TransactionConflict" in reasons:
                raise Conflict("a concurrent transaction touched the same items") from exc
            return reasons + ["None"] * (len(operations) - len(reasons))
        await self.outbox.flush(envelopes)
        return None


def _reasons_from_message(message: str) -> list[str]:
    # "Transaction cancelled, please refer cancellation reasons for specific reasons
    #  [None, ConditionalCheckFailed]"
    if "[" not in message:
        return []
    inside = message[message.rindex("[") + 1 : message.rindex("]")]
    return [part.strip() for part in inside.split(",")]
