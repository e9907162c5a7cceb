from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, func

metadata = MetaData()

# One row per booking fact: the dedupe record (unique envelope id) and, once sent, the log entry.
notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(36), primary_key=True),
    Column("envelope_id", String(64), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("booking_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("recipient", String(320)),
    Column("subject", Text),
    Column("provider_message_id", String(255)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_notifications_user_sent", "user_id", "sent_at", postgresql_where="status = 'sent'"),
)
