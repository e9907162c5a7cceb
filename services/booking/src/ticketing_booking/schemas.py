from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold_id: Id


class Payment(BaseModel):
    payment_id: str
    provider: str
    client_secret: str


class ListingQuery(BaseModel):
    """The query of GET /api/v1/bookings."""

    event_id: str | None = Field(default=None, min_length=1, max_length=64)
    status: BookingStatus | None = None
    seat_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Bookings holding this seat"
    )
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)


class BookingOut(BaseModel):
    booking_id: str
    user_id: str
    event_id: str
    seat_ids: list[str]
    section_id: str | None = None
    quantity: int
    status: Literal["pending_payment", "confirmed", "cancelled", "expired", "refunded", "failed"]
    amount_cents: int
    currency: str
    hold_expires_at: datetime
    created_at: datetime
    reason: str | None = None
    payment: Payment | None


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


class TicketOut(BaseModel):
    ticket_id: str
    seat_id: str
    secret: str
    qr_svg: str


class PublicKey(BaseModel):
    algorithm: Literal["Ed25519"]
    kid: str
    public_key_pem: str
    jwk: dict[str, Any]
    secret_format: str


# --- the organizer's console ------------------------------------------------------------------

BookingStatus = Literal[
    "pending_payment", "confirmed", "cancelled", "expired", "refunded", "failed"
]


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, max_length=200),
        Field(description="Said to the customer with the refund"),
    ] = None


class SectionSales(BaseModel):
    section_id: str
    capacity: int
    available: int
    held: int
    sold: int


class SeatTotals(BaseModel):
    capacity: int
    available: int
    held: int
    sold: int


class SalesBucket(BaseModel):
    start: datetime
    bookings: int
    tickets: int
    revenue_cents: int


class SalesOverTime(BaseModel):
    interval: Literal["minute", "hour", "day"]
    buckets: list[SalesBucket] = Field(description="Only intervals with sales, oldest first")


class SalesSummary(BaseModel):
    event_id: str
    currency: str | None = Field(description="null until the event has a booking")
    generated_at: datetime
    sections: list[SectionSales] = Field(description="Live from inventory; empty for a draft")
    seats: SeatTotals
    revenue_cents: int = Field(description="Of confirmed bookings")
    refunded_cents: int
    tickets_sold: int = Field(description="Tickets of confirmed bookings")
    checked_in: int = Field(description="Tickets scanned in at the door")
    bookings: dict[BookingStatus, int] = Field(description="Bookings in each status")
    sales_over_time: SalesOverTime


# --- door check-in ------------------------------------------------------------------------------

ScanResult = Literal["valid", "already_used", "revoked", "wrong_event", "invalid"]


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scan_id: Annotated[
        Id, Field(description="Made by the scanner, one per scan: resending it is a replay")
    ]
    secret: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    device_id: Annotated[Id, Field(description="Which scanner, as it names itself")]
    scanned_at: AwareDatetime | None = Field(
        default=None,
        description="When the scanner read it (offline scans sync later); now if left out",
    )


class CheckInsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scans: Annotated[list[ScanIn], Field(min_length=1, max_length=200)]


class CheckIn(BaseModel):
    ticket_id: str
    booking_id: str
    seat_id: str
    scan_id: str
    device_id: str
    scanned_at: datetime
    recorded_at: datetime


class ScanOutcome(BaseModel):
    scan_id: str
    result: ScanResult
    detail: str = Field(description="The result as a sentence for the person at the door")
    ticket_id: str | None
    booking_id: str | None
    event_id: str | None = Field(description="The event the ticket is for (wrong_event)")
    seat_id: str | None
    booking_status: str | None = Field(description="Why a ticket is revoked")
    first_scan: CheckIn | None = Field(
        description="The ticket's first check-in: this scan's when valid, the earlier one when "
        "already used"
    )


class CheckInResults(BaseModel):
    results: list[ScanOutcome] = Field(description="One per scan, in the order sent")


class CheckInPage(BaseModel):
    items: list[CheckIn]
    next_cursor: str | None


class RevokedTicket(BaseModel):
    ticket_id: str
    booking_id: str
    seat_id: str
    status: str = Field(description="The booking's status (refunded, cancelled, ...)")


class Revocations(BaseModel):
    event_id: str
    generated_at: datetime
    event_cancelled: bool
    tickets: list[RevokedTicket]
