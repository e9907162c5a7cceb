from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from ticketing_common.settings import (
    PostgresSettings,
    RedisSettings,
    ServiceSettings,
    local_database,
    production_secret,
)

DEV_WEBHOOK_SECRET = "whsec_dev_local_simulator_not_for_production"  # noqa: S105 - refused in prod


class PaymentSettings(ServiceSettings, PostgresSettings, RedisSettings):
    service_name: str = "payment"
    database_url: str = local_database("ticketing_payments")

    # "local": the built-in simulator (dev, tests); "stripe": real PaymentIntents.
    payment_provider: Literal["local", "stripe"] = "local"
    stripe_secret_key: SecretStr = production_secret()
    # Signs (simulator) and verifies (every provider) the webhook events.
    stripe_webhook_secret: SecretStr = production_secret(DEV_WEBHOOK_SECRET)
    # Override Stripe's API address (a recording server in tests); None = api.stripe.com.
    stripe_api_base: str | None = None
    stripe_max_network_retries: int = Field(default=2, ge=0, le=5)
    # Events signed longer ago than this are refused (replay protection).
    webhook_tolerance_s: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _provider_needs_its_secrets(self) -> PaymentSettings:
        if self.payment_provider == "stripe" and not self.stripe_secret_key.get_secret_value():
            raise ValueError("STRIPE_SECRET_KEY is required when PAYMENT_PROVIDER=stripe")
        # (In production every secret is required anyway: ServiceSettings.)
        dev_secret = self.stripe_webhook_secret.get_secret_value() == DEV_WEBHOOK_SECRET
        if dev_secret and self.payment_provider == "stripe":
            raise ValueError("STRIPE_WEBHOOK_SECRET must be set for Stripe")
        return self
