"""What payment's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from ticketing_common.database import DbSession
from ticketing_common.resources import provided

from ticketing_payment.payments import Payments
from ticketing_payment.providers import PaymentProvider
from ticketing_payment.webhooks import WebhookProcessor

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per dependency per request for what is an attribute lookup.


Provider = Annotated[PaymentProvider, Depends(provided(PaymentProvider))]


async def _payments(db: DbSession, provider: Provider) -> Payments:
    return Payments(db, provider)


PaymentsService = Annotated[Payments, Depends(_payments)]
Webhooks = Annotated[WebhookProcessor, Depends(provided(WebhookProcessor))]
