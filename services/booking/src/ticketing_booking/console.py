"""What an organizer sees of an event's sales, and the refunds they give: the console's view of
bookings. Who may look is decided per event (its organizer, an admin; door staff see only what
check-in needs, in door.py)."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Literal

from ticketing_common.contracts import Contact
from ticketing_common.problems import not_found
from ticketing_common.security import Principal

from ticketing_booking.clients import AuthClient, InventoryClient
from ticketing_booking.door import CheckInStore
from ticketing_booking.models import Booking
from ticketing_booking.owners import EventOwners
from ticketing_booking.saga import BookingSaga
from ticketing_booking.store import BookingStore

Interval = Literal["minute", "hour", "day"]
SUMMARIES_KEPT = 256
STATUSES = ("pending_payment", "confirmed", "cancelled", "expired", "refunded", "failed")
CSV_COLUMNS = (
    "booking_id",
    "status",
    "created_at",
    "customer_name",
    "customer_email",
    "user_id",
    "seats",
    "section_id",
    "quantity",
    "amount",
    "currency",
    "payment_id",
    "reason",
)


def bucket_start(at: datetime, interval: Interval) -> datetime:
    at = at.astimezone(UTC)
    if interval == "minute":
        return at.replace(second=0, microsecond=0)
    if interval == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def summarize(bookings: list[Booking], interval: Interval) -> dict[str, Any]:
    """Revenue and tickets of confirmed bookings, every status counted, and sales over time
    (confirmed bookings by the time they were made; only buckets with sales)."""
    statuses: Counter[str] = Counter(booking.status for booking in bookings)
    confirmed = [b for b in bookings if b.status == "confirmed"]
    refunded = [b for b in bookings if b.status == "refunded"]
    buckets: dict[datetime, dict[str, int]] = {}
    for booking in confirmed:
        bucket = buckets.setdefault(
            bucket_start(booking.created_at, interval),
            {"bookings": 0, "tickets": 0, "revenue_cents": 0},
        )
        bucket["bookings"] += 1
        bucket["tickets"] += booking.quantity
        bucket["revenue_cents"] += booking.amount_cents
    return {
        "revenue_cents": sum(b.amount_cents for b in confirmed),
        "refunded_cents": sum(b.amount_cents for b in refunded),
        "tickets_sold": sum(b.quantity for b in confirmed),
        "bookings": {status: statuses.get(status, 0) for status in STATUSES},
        "sales_over_time": {
            "interval": interval,
            "buckets": [{"start": start} | counts for start, counts in sorted(buckets.items())],
        },
    }


def _money(cents: int) -> str:
    # Minor units as a decimal amount; every currency the platform sells in has two (ISO 4217
    # exponents other than 2 would need the currency's own).
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _cell(value: str) -> str:
    """A spreadsheet must not run what a customer typed as their name (CSV injection, OWASP)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def bookings_csv(bookings: list[Booking], people: dict[str, Contact]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    for booking in bookings:
        person = people.get(booking.user_id)
        writer.writerow(
            [
                booking.booking_id,
                booking.status,
                booking.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                _cell(person.name if person else ""),
                _cell(person.email if person else ""),
                booking.user_id,
                " ".join(booking.seat_ids),
                booking.section_id or "",
                booking.quantity,
                _money(booking.amount_cents),
                booking.currency,
                booking.payment.payment_id if booking.payment else "",
                _cell(booking.reason),
            ]
        )
    return out.getvalue()


class SalesConsole:
    def __init__(
        self,
        saga: BookingSaga,
        owners: EventOwners,
        inventory: InventoryClient,
        auth: AuthClient,
        checkins: CheckInStore,
        *,
        summary_cache_s: float,
    ) -> None:
        self.saga = saga
        self.checkins = checkins
        self.store: BookingStore = saga.store
        self.owners = owners
        self.inventory = inventory
        self.auth = auth
        self.summary_cache_s = summary_cache_s
        self._summaries: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    async def summary(self, user: Principal, event_id: str, interval: Interval) -> dict[str, Any]:
        """Seats per section (live from inventory) and the sales of every booking; viewers of
        the same event within `summary_cache_s` share one computation."""
        await self.owners.check(user, event_id, "see this event's sales")
        key = (event_id, interval)
        cached = self._summaries.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.summary_cache_s:
            return cached[1]
        bookings = await self.store.all_for_event(event_id)
        sections = await self.inventory.availability(event_id) or []
        seats = {
            name: sum(getattr(section, name) for section in sections)
            for name in ("capacity", "available", "held", "sold")
        }
        summary = {
            "event_id": event_id,
            "currency": next((b.currency for b in bookings), None),
            "generated_at": datetime.now(UTC),
            "sections": [
                section.model_dump(include={"section_id", "capacity", "available", "held", "sold"})
                for section in sections
            ],
            "seats": seats,
            "checked_in": await self.checkins.count(event_id),
        } | summarize(bookings, interval)
        now = time.monotonic()
        self._summaries[key] = (now, summary)
        if len(self._summaries) > SUMMARIES_KEPT:
            self._summaries = {
                k: v for k, v in self._summaries.items() if now - v[0] < self.summary_cache_s
            }
        return summary

    async def page(
        self,
        user: Principal,
        event_id: str,
        *,
        status: str | None,
        seat_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Booking], str | None]:
        await self.owners.check(user, event_id, "list this event's bookings")
        return await self.store.event_bookings(
            event_id, limit, cursor, status=status, seat_id=seat_id
        )

    async def export(self, user: Principal, event_id: str, status: str | None) -> str:
        """Every booking of the event (or those in `status`), oldest first, as CSV with the
        customer's name and email."""
        await self.owners.check(user, event_id, "export this event's bookings")
        bookings = sorted(
            (
                booking
                for booking in await self.store.all_for_event(event_id)
                if status is None or booking.status == status
            ),
            key=lambda booking: (booking.created_at, booking.booking_id),
        )
        people = await self.auth.users([booking.user_id for booking in bookings])
        return bookings_csv(bookings, people)

    async def refund(self, user: Principal, booking_id: str, reason: str | None) -> Booking:
        booking = await self.store.get(booking_id)
        # Someone else's event's booking answers like a missing one: ids are not for probing.
        if booking is None or not user.acts_for(await self._owner(booking.event_id)):
            raise not_found("Booking", booking_id)
        who = "an administrator" if user.is_admin else "the organizer"
        refunded = await self.saga.refund(
            booking_id, f"refunded by {who}" + (f": {reason}" if reason else "")
        )
        if refunded is None:
            raise not_found("Booking", booking_id)
        return refunded

    async def _owner(self, event_id: str) -> str | None:
        return await self.owners.organizer_of(event_id)
