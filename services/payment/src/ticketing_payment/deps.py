"""What payment's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from ticketing_common.database import DbSession

from ticketing_payment.payments import Payments
from ticketing_payment.providers import PaymentProvider
from ticketing_payment.webhooks import WebhookProcessor

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per dependency per request for what is an attribute lookup.


def _provider(conn: HTTPConnection) -> PaymentProvider:
    provider: PaymentProvider = conn.app.state.provider
    return provider


async def _payments(db: DbSession, conn: HTTPConnection) -> Payments:
    return Payments(db, _provider(conn))


async def _webhooks(conn: HTTPConnection) -> WebhookProcessor:
    webhooks: WebhookProcessor = conn.app.state.webhooks
    return webhooks


PaymentsService = Annotated[Payments, Depends(_payments)]
Webhooks = Annotated[WebhookProcessor, Depends(_webhooks)]
