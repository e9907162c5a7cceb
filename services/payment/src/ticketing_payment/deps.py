"""What payment's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from ticketing_common.database import DbSession

from ticketing_payment.payments import Payments
from ticketing_payment.providers import PaymentProvider
from ticketing_payment.webhooks import WebhookProcessor


def _provider(conn: HTTPConnection) -> PaymentProvider:
    provider: PaymentProvider = conn.app.state.provider
    return provider


def _payments(db: DbSession, conn: HTTPConnection) -> Payments:
    return Payments(db, _provider(conn))


def _webhooks(conn: HTTPConnection) -> WebhookProcessor:
    webhooks: WebhookProcessor = conn.app.state.webhooks
    return webhooks


PaymentsService = Annotated[Payments, Depends(_payments)]
Webhooks = Annotated[WebhookProcessor, Depends(_webhooks)]
