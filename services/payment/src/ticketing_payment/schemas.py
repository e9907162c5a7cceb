"""Payment's public bodies (docs/api.md); its internal ones are the commands' in
ticketing_common.contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from ticketing_common.contracts import PaymentStatus, Strict


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


class Anomaly(BaseModel):
    event_id: str = Field(description="The provider's event id")
    type: str
    outcome: str = Field(description="amount-mismatch: not applied")
    payment_id: str | None
    booking_id: str | None
    detail: dict[str, Any] = Field(description="What the event said against the payment")
    received_at: datetime
