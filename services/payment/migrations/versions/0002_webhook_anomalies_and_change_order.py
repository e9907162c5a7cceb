"""webhook events keep what was wrong with them (amount or currency mismatches); payments are
read in the order they changed (booking's reconciliation)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_events", sa.Column("payment_id", sa.String(36)))
    op.add_column("webhook_events", sa.Column("detail", postgresql.JSONB))
    op.create_index(
        "ix_webhook_events_anomalies",
        "webhook_events",
        ["received_at"],
        postgresql_where=sa.text("detail IS NOT NULL"),
    )
    op.create_index("ix_payments_changed", "payments", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_payments_changed", table_name="payments")
    op.drop_index("ix_webhook_events_anomalies", table_name="webhook_events")
    op.drop_column("webhook_events", "detail")
    op.drop_column("webhook_events", "payment_id")
