"""venues.in_use (editable until the first event), indexes for the console's listings

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "venues",
        sa.Column("in_use", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.execute(
        "UPDATE venues SET in_use = true"
        " WHERE EXISTS (SELECT 1 FROM events WHERE events.venue_id = venues.venue_id)"
    )
    # The console lists an organizer's events and venues newest first (keyset on the pair).
    op.create_index(
        "ix_events_organizer_created", "events", ["organizer_id", "created_at", "event_id"]
    )
    op.create_index("ix_events_created", "events", ["created_at", "event_id"])
    op.create_index(
        "ix_venues_organizer_created", "venues", ["organizer_id", "created_at", "venue_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_venues_organizer_created", "venues")
    op.drop_index("ix_events_created", "events")
    op.drop_index("ix_events_organizer_created", "events")
    op.drop_column("venues", "in_use")
