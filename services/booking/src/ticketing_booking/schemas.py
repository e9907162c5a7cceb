from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

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


class SoldOut(BaseModel):
    sold: list[SoldEntry]
