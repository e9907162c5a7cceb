from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
PaymentStatus = Literal["creating", "requires_payment", "succeeded", "failed", "refunded"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentIn(Strict):
    booking_id: Id
    user_id: Id
    amount_cents: int = Field(ge=0, le=100_000_000)
    currency: Currency


class PaymentCreated(BaseModel):
    payment_id: str
    provider: str
    client_secret: str
    status: PaymentStatus


class RefundIn(Strict):
    reason: Annotated[str, StringConstraints(max_length=255)] = ""


class RefundOut(BaseModel):
    refund_id: str
    status: Literal["pending", "succeeded", "failed"]


class Payment(BaseModel):
    payment_id: str
    booking_id: str
    status: PaymentStatus
    amount_cents: int
    currency: str
    provider: str


class SimulateIn(Strict):
    outcome: Literal["succeeded", "failed"]


class SimulateAccepted(BaseModel):
    payment_id: str
    outcome: Literal["succeeded", "failed"]


class WebhookReceived(BaseModel):
    received: bool = True
    outcome: str = Field(
        description="applied | duplicate | stale | ignored | unknown-payment | amount-mismatch "
        "(signed, but for another amount or currency: not applied, kept for admins)"
    )


class PaymentState(BaseModel):
    payment_id: str
    booking_id: str
    status: PaymentStatus
    provider: str
    amount_cents: int
    currency: str
    failure_reason: str | None
    refund_id: str | None
    refund_status: Literal["pending", "succeeded", "failed"] | None
    updated_at: datetime


class PaymentChanges(BaseModel):
    items: list[PaymentState]
    next_cursor: str | None


class Anomaly(BaseModel):
    event_id: str = Field(description="The provider's event id")
    type: str
    outcome: str = Field(description="amount-mismatch: not applied")
    payment_id: str | None
    booking_id: str | None
    detail: dict[str, Any] = Field(description="What the event said against the payment")
    received_at: datetime
