"""users.organizer_id (a staff member's organizer), indexes for the admin's user list

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
        "users",
        sa.Column(
            "organizer_id", sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL")
        ),
    )
    op.create_index("ix_users_created", "users", ["created_at", "id"])
    op.create_index("ix_users_organizer_id", "users", ["organizer_id"])


def downgrade() -> None:
    op.drop_index("ix_users_organizer_id", "users")
    op.drop_index("ix_users_created", "users")
    op.drop_column("users", "organizer_id")
