from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from ticketing_common.outbox import outbox_table

metadata = MetaData()

# One payment per booking (the unique booking_id makes POST /internal/payments idempotent).
# status: creating (row written, provider not yet asked) -> requires_payment -> succeeded |
# failed; succeeded -> refunded. failed -> succeeded is allowed (the customer retried a card).
payments = Table(
    "payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("booking_id", String(64), nullable=False, unique=True),
    Column("user_id", String(64), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("provider_payment_id", String(255), unique=True),
    Column("client_secret", String(255)),
    Column("status", String(24), nullable=False),
    Column("failure_reason", String(255)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Booking reconciles against payments in the order they changed.
    Index("ix_payments_changed", "updated_at", "id"),
)

# Refunds are their own records: one (full) refund per payment.
# status: pending -> succeeded | failed.
refunds = Table(
    "refunds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("payment_id", String(36), ForeignKey("payments.id"), nullable=False, unique=True),
    Column("provider_refund_id", String(255), unique=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(255), nullable=False, server_default=""),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Every webhook event applied, by Stripe's event id: the primary key is the dedupe.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("object_id", String(255)),
    Column("outcome", String(32), nullable=False),
    Column("stripe_created", DateTime(timezone=True)),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Set when the event was refused for what it said (an amount or currency that differs from
    # the payment's): for admins to look into (GET /api/v1/payments/anomalies).
    Column("payment_id", String(36)),
    Column("detail", JSONB(none_as_null=True)),
    Index("ix_webhook_events_object_id", "object_id"),
    Index(
        "ix_webhook_events_anomalies",
        "received_at",
        postgresql_where=text("detail IS NOT NULL"),
    ),
)

outbox = outbox_table(metadata)
