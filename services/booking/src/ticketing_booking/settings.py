from __future__ import annotations

from pydantic import Field, SecretStr
from ticketing_common.settings import (
    ConsumerSettings,
    RedisSettings,
    ServiceSettings,
    production_secret,
)


class BookingSettings(ServiceSettings, RedisSettings, ConsumerSettings):
    service_name: str = "booking"

    # DynamoDB: AWS in production; a moto server or DynamoDB Local when an endpoint is set.
    dynamodb_table: str = "ticketing-bookings"
    dynamodb_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    # Only for a local endpoint; on AWS the task role's credentials are used.
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    # The request path's client: connections kept open to DynamoDB, and its per-call timeout.
    dynamodb_pool_size: int = Field(default=100, ge=1)
    dynamodb_timeout_s: float = Field(default=5.0, gt=0)

    # Confirmed bookings are read from memory this long (only cancel or refund changes them;
    # this instance's own writes are seen at once, another instance's within this time). 0: off.
    confirmed_cache_ttl_s: float = Field(default=5.0, ge=0)

    auth_url: str = "http://127.0.0.1:8001"
    inventory_url: str = "http://127.0.0.1:8003"
    events_url: str = "http://127.0.0.1:8002"
    payment_url: str = "http://127.0.0.1:8005"

    # Ed25519 private key (PEM) that signs ticket secrets. Empty: a throwaway key is generated
    # (dev only, with a warning: tickets issued before a restart no longer verify; production
    # refuses to start without it).
    ticket_signing_key: SecretStr = production_secret()

    # A pending booking expires this long after its hold did (a payment in flight may land).
    expiry_grace_s: float = Field(default=30.0, ge=0)
    sweep_interval_s: float = Field(default=5.0, gt=0)
    # Facts not published right after their write are published by the relay after this long.
    outbox_relay_interval_s: float = Field(default=1.0, gt=0)
    outbox_min_age_s: float = Field(default=2.0, ge=0)

    # The organizer's sales summary is computed from every booking of the event; viewers of the
    # same event within this long share one computation.
    sales_summary_cache_s: float = Field(default=2.0, ge=0)

    # Consumer of payment.* and event.* facts.
    bus_max_attempts: int = Field(default=20, ge=1)

    # Reconciliation with payment's store (reconciler.py): how often, how far behind the clock
    # (the bus's head start), and how far back a new process looks.
    reconcile_interval_s: float = Field(default=15.0, gt=0)
    reconcile_settle_s: float = Field(default=10.0, ge=0)
    reconcile_lookback_s: float = Field(default=3600.0, ge=0)
