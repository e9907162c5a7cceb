"""waiting_rooms: an event's virtual waiting room settings (no row: the defaults, off)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waiting_rooms",
        sa.Column(
            "event_id", sa.String(36), sa.ForeignKey("events.event_id"), primary_key=True
        ),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True)),
        sa.Column("admission_per_minute", sa.Integer, nullable=False),
        sa.Column("max_shoppers", sa.Integer, nullable=False),
        sa.Column("shopping_minutes", sa.Integer, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index(
        "ix_waiting_rooms_enabled",
        "waiting_rooms",
        ["event_id"],
        postgresql_where=sa.text("enabled"),
    )


def downgrade() -> None:
    op.drop_index("ix_waiting_rooms_enabled", "waiting_rooms")
    op.drop_table("waiting_rooms")
