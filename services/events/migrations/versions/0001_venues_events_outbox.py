"""venues, events and the outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "venues",
        sa.Column("venue_id", sa.String(36), primary_key=True),
        sa.Column("organizer_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("country", sa.String(100), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("sections", JSONB, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_venues_organizer_id", "venues", ["organizer_id"])
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("organizer_id", sa.String(64), nullable=False),
        sa.Column("venue_id", sa.String(36), sa.ForeignKey("venues.venue_id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("price_tiers", JSONB, nullable=False),
        sa.Column("section_tiers", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("inventory_closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_events_organizer_id", "events", ["organizer_id"])
    op.create_index(
        "ix_events_on_sale_starts",
        "events",
        ["starts_at", "event_id"],
        postgresql_where=sa.text("status = 'on_sale'"),
    )
    op.create_index(
        "ix_events_on_sale_city_starts",
        "events",
        [sa.text("lower(city)"), "starts_at", "event_id"],
        postgresql_where=sa.text("status = 'on_sale'"),
    )
    op.create_index(
        "ix_events_closing_due",
        "events",
        ["cancelled_at"],
        postgresql_where=sa.text(
            "status = 'cancelled' AND published_at IS NOT NULL AND inventory_closed_at IS NULL"
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("events")
    op.drop_table("venues")
