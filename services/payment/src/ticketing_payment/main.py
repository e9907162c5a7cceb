from __future__ import annotations

import logging

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.bus import Bus
from ticketing_common.database import Database
from ticketing_common.outbox import OutboxRelay
from ticketing_common.redis import RedisClient
from ticketing_common.resources import provide

from ticketing_payment.api import internal, router
from ticketing_payment.providers import LocalSimulator, PaymentProvider, StripeProvider
from ticketing_payment.settings import DEV_WEBHOOK_SECRET, PaymentSettings
from ticketing_payment.tables import outbox
from ticketing_payment.webhooks import WebhookProcessor

log = logging.getLogger(__name__)


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    database = Database.from_settings(settings)
    redis = RedisClient.from_settings(settings)
    bus = Bus(redis, settings.service_name)
    secret = settings.stripe_webhook_secret.get_secret_value()
    webhooks = WebhookProcessor(database, secret, settings.webhook_tolerance_s)
    provider: StripeProvider | LocalSimulator
    if settings.payment_provider == "stripe":
        provider = StripeProvider(
            settings.stripe_secret_key.get_secret_value(),
            api_base=settings.stripe_api_base,
            max_network_retries=settings.stripe_max_network_retries,
        )
    else:
        if secret == DEV_WEBHOOK_SECRET:
            log.warning("payments run on the local simulator with the development webhook secret")
        provider = LocalSimulator(secret, webhooks.receive)
    relay = OutboxRelay(database, outbox, bus)

    app = create_service_app(
        settings,
        title="Payment service",
        description="Payments and refunds (Stripe or the local simulator), verified webhooks, "
        "payment facts.",
        routers=[router, internal],
        resources=[database, redis, bus, provider],
        background=[relay.run],
        provides=[webhooks],
    )
    provide(app, provider, as_type=PaymentProvider)  # the simulator or Stripe
    return app
