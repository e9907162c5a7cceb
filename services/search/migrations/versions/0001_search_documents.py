"""search documents: full-text vector, trigram text for typos and suggestions

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    # unaccent() is only STABLE (its dictionary could change); generated columns and indexes
    # need IMMUTABLE, so the folding is pinned to the dictionary named here.
    op.execute(
        """
        CREATE FUNCTION search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$
        """
    )
    op.create_table(
        "search_documents",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("listed", sa.Boolean, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("venue_name", sa.Text, nullable=False),
        sa.Column("city", sa.String(128), nullable=False),
        sa.Column("country", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("min_price_cents", sa.Integer),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("version", sa.DateTime(timezone=True), nullable=False),
    )
    # Title weighs most, then where it is, then what kind, then the description.
    op.execute(
        """
        ALTER TABLE search_documents
        ADD COLUMN document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', search_fold(title)), 'A')
            || setweight(to_tsvector('english', search_fold(venue_name || ' ' || city)), 'B')
            || setweight(to_tsvector('english', search_fold(category)), 'C')
            || setweight(to_tsvector('english', search_fold(description)), 'D')
        ) STORED,
        ADD COLUMN search_text text GENERATED ALWAYS AS (
            search_fold(title || ' ' || venue_name || ' ' || city)
        ) STORED,
        ADD COLUMN title_folded text GENERATED ALWAYS AS (search_fold(title)) STORED,
        ADD COLUMN city_folded text GENERATED ALWAYS AS (search_fold(city)) STORED,
        ADD COLUMN category_folded text GENERATED ALWAYS AS (search_fold(category)) STORED
        """
    )
    # fastupdate off: writes are rare (one per event fact) and reads are what matters; GIN's
    # pending list would make every search scan unmerged entries until the next vacuum.
    op.execute(
        "CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)"
        " WITH (fastupdate = off) WHERE listed"
    )
    op.execute(
        "CREATE INDEX ix_search_documents_search_text ON search_documents"
        " USING gin (search_text gin_trgm_ops) WITH (fastupdate = off) WHERE listed"
    )
    op.execute(
        "CREATE INDEX ix_search_documents_title ON search_documents"
        " USING gin (title_folded gin_trgm_ops) WITH (fastupdate = off) WHERE listed"
    )
    op.execute(
        "CREATE INDEX ix_search_documents_starts_at ON search_documents (starts_at) WHERE listed"
    )
    op.create_table(
        "search_reindex_staging",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("venue_name", sa.Text, nullable=False),
        sa.Column("city", sa.String(128), nullable=False),
        sa.Column("country", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("min_price_cents", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("search_reindex_staging")
    op.drop_table("search_documents")
    op.execute("DROP FUNCTION search_fold(text)")
