from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from ticketing_common.outbox import outbox_table

metadata = MetaData()

# A venue may be edited until the first event is put on it (`in_use`); from then on it never
# changes: events priced against its sections rely on that.
venues = Table(
    "venues",
    metadata,
    Column("venue_id", String(36), primary_key=True),
    Column("organizer_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("city", String(100), nullable=False),
    Column("country", String(100), nullable=False),
    Column("address", String(500), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("sections", JSONB, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("in_use", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_venues_organizer_id", "organizer_id"),
    Index("ix_venues_organizer_created", "organizer_id", "created_at", "venue_id"),
)

events = Table(
    "events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("organizer_id", String(64), nullable=False),
    Column("venue_id", String(36), ForeignKey("venues.venue_id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(50), nullable=False),
    Column("city", String(100), nullable=False),  # the venue's, kept here to filter listings
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True)),
    Column("price_tiers", JSONB, nullable=False),
    Column("section_tiers", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    # Set once inventory has stopped selling a cancelled event; NULL means a retry is due.
    Column("inventory_closed_at", DateTime(timezone=True)),
    Index("ix_events_organizer_id", "organizer_id"),
    # The console: an organizer's events (or, for admins, every event) newest first.
    Index("ix_events_organizer_created", "organizer_id", "created_at", "event_id"),
    Index("ix_events_created", "created_at", "event_id"),
    # The public listing: published events in (starts_at, event_id) order, optionally by city.
    Index(
        "ix_events_on_sale_starts",
        "starts_at",
        "event_id",
        postgresql_where=text("status = 'on_sale'"),
    ),
    Index(
        "ix_events_closing_due",
        "cancelled_at",
        postgresql_where=text(
            "status = 'cancelled' AND published_at IS NOT NULL AND inventory_closed_at IS NULL"
        ),
    ),
)

Index(
    "ix_events_on_sale_city_starts",
    func.lower(events.c.city),
    events.c.starts_at,
    events.c.event_id,
    postgresql_where=text("status = 'on_sale'"),
)

# A virtual waiting room per event, configured by its organizer; an event without a row has the
# defaults (off). The gateway runs the rooms that are on (ticketing_api_gateway.waiting_room).
waiting_rooms = Table(
    "waiting_rooms",
    metadata,
    Column("event_id", String(36), ForeignKey("events.event_id"), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("opens_at", DateTime(timezone=True)),
    Column("admission_per_minute", Integer, nullable=False),
    Column("max_shoppers", Integer, nullable=False),
    Column("shopping_minutes", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_waiting_rooms_enabled", "event_id", postgresql_where=text("enabled")),
)

outbox = outbox_table(metadata)
