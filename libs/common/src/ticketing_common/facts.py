"""The facts services tell each other, defined once: one envelope, typed and versioned payloads.

A fact's `type` names it (`booking.confirmed`); its stream is the part before the dot
(`facts:booking`). Adding a field with a default is compatible; anything else is a new version.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ticketing_common.logging import request_id_var
from ticketing_common.tracing import outgoing_trace_header

STREAM_PREFIX = "facts:"


class FactData(BaseModel):
    """A fact's payload. Subclasses set `type` (and `version` when it changes)."""

    model_config = ConfigDict(frozen=True, extra="ignore")  # newer producers may add fields

    type: ClassVar[str]
    version: ClassVar[int] = 1


class TraceContext(BaseModel):
    request_id: str | None = None
    trace_header: str | None = None


class Envelope(BaseModel):
    id: str
    type: str
    version: int = 1
    occurred_at: datetime
    source: str
    data: dict[str, Any]
    trace: TraceContext = Field(default_factory=TraceContext)

    @classmethod
    def of(cls, fact: FactData, source: str) -> Envelope:
        return cls(
            id=uuid.uuid4().hex,
            type=fact.type,
            version=fact.version,
            occurred_at=datetime.now(UTC),
            source=source,
            data=fact.model_dump(mode="json"),
            trace=TraceContext(
                request_id=request_id_var.get(), trace_header=outgoing_trace_header()
            ),
        )

    @property
    def stream(self) -> str:
        return stream_of(self.type)

    def fact(self) -> FactData:
        """The typed payload (raises KeyError for an unknown type, ValidationError for bad data)."""
        return FACT_TYPES[self.type].model_validate(self.data)


def stream_of(fact_type: str) -> str:
    return STREAM_PREFIX + fact_type.split(".", 1)[0]


# --- event.* (producer: events) ----------------------------------------------------------------


class EventFact(FactData):
    """What search indexes and anyone else needs to know about an event."""

    event_id: str
    organizer_id: str
    title: str
    description: str = ""
    category: str
    status: Literal["draft", "on_sale", "cancelled"]
    venue_id: str
    venue_name: str
    city: str
    country: str = ""
    starts_at: datetime
    ends_at: datetime | None = None
    currency: str
    min_price_cents: int


class EventPublished(EventFact):
    type = "event.published"


class EventUpdated(EventFact):
    type = "event.updated"


class EventCancelled(FactData):
    type = "event.cancelled"
    event_id: str
    organizer_id: str


# --- payment.* (producer: payment) -------------------------------------------------------------


class PaymentSucceeded(FactData):
    type = "payment.succeeded"
    payment_id: str
    booking_id: str
    amount_cents: int
    currency: str
    provider: str


class PaymentFailed(FactData):
    type = "payment.failed"
    payment_id: str
    booking_id: str
    reason: str = ""


class PaymentRefunded(FactData):
    type = "payment.refunded"
    payment_id: str
    booking_id: str
    refund_id: str
    amount_cents: int
    currency: str
    # What the refund was asked for with: booking's own reason (an organizer's refund, a
    # cancelled event), or "refunded at the payment provider" for one made there.
    reason: str = ""


# --- booking.* (producer: booking) -------------------------------------------------------------


class Ticket(BaseModel):
    model_config = ConfigDict(frozen=True)
    ticket_id: str
    seat_id: str
    secret: str

    @property
    def qr_payload(self) -> str:
        """What the ticket's QR code encodes, wherever it is drawn (booking's `qr_svg`, the
        emailed PNG): one definition, so every copy of a ticket scans the same."""
        return f"ticketing:{self.ticket_id}:{self.secret}"


class BookingFact(FactData):
    booking_id: str
    user_id: str
    event_id: str
    seat_ids: list[str]
    amount_cents: int
    currency: str
    reason: str = ""


class BookingConfirmed(BookingFact):
    type = "booking.confirmed"
    tickets: list[Ticket]


class BookingCancelled(BookingFact):
    type = "booking.cancelled"


class BookingRefunded(BookingFact):
    type = "booking.refunded"


class BookingFailed(BookingFact):
    type = "booking.failed"


class BookingExpired(BookingFact):
    type = "booking.expired"


FACT_TYPES: dict[str, type[FactData]] = {
    cls.type: cls
    for cls in (
        EventPublished,
        EventUpdated,
        EventCancelled,
        PaymentSucceeded,
        PaymentFailed,
        PaymentRefunded,
        BookingConfirmed,
        BookingCancelled,
        BookingRefunded,
        BookingFailed,
        BookingExpired,
    )
}
