"""The embedded backend's tables (the full-text column and indexes are in the migration)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

# One row per event ever seen. Rows of unlisted events (cancelled, unpublished, absent from a
# reindex) stay as tombstones with their version, so a late fact cannot bring them back.
search_documents = Table(
    "search_documents",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("listed", Boolean, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(64), nullable=False),
    Column("venue_name", Text, nullable=False),
    Column("city", String(128), nullable=False),
    Column("country", String(64), nullable=False),
    Column("starts_at", DateTime(timezone=True)),
    Column("min_price_cents", Integer),
    Column("currency", String(3), nullable=False),
    Column("version", DateTime(timezone=True), nullable=False),
)

# A reindex streams the snapshot into this staging table page by page, then merges it into
# search_documents in one transaction: searches see the old rows until the merge commits.
reindex_staging = Table(
    "search_reindex_staging",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(64), nullable=False),
    Column("venue_name", Text, nullable=False),
    Column("city", String(128), nullable=False),
    Column("country", String(64), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("min_price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
)
