from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold_id: Id


class Payment(BaseModel):
    payment_id: str
    provider: str
    client_secret: str


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


class SoldEntry(BaseModel):
    booking_id: str
    seat_ids: list[str]
    section_id: str | None
    quantity: int


class BookedHold(BaseModel):
    hold_id: str
    booking_id: str
    user_id: str
    seat_ids: list[str]
    section_id: str | None
    quantity: int
    expires_at: datetime


class SoldOut(BaseModel):
    """An event's durable truth, as inventory rebuilds and reconciles its state from it."""

    sold: list[SoldEntry] = Field(description="Confirmed bookings: what they bought")
    holds: list[BookedHold] = Field(description="Holds of bookings awaiting payment")
    unsettled: list[str] = Field(
        description="Bookings that may be sold their seats any moment (awaiting or confirming "
        "a payment): inventory keeps their sales"
    )
