from __future__ import annotations

from typing import Annotated, Literal

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
    outcome: str = Field(description="applied | duplicate | stale | ignored | unknown-payment")
