"""SQL for venues and events (SQLAlchemy Core; rows come back as plain dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, true, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from ticketing_common.database import contains

from ticketing_events.tables import events, venues, waiting_rooms

# Reads run on a session (inside a change) or on an autocommit connection (read-only requests:
# no BEGIN/ROLLBACK round trips).
Reader = AsyncSession | AsyncConnection

EVENT_COLUMNS = tuple(c for c in events.c if c.name not in ("inventory_closed_at", "updated_at"))


async def insert_venue(db: AsyncSession, **values: Any) -> dict[str, Any]:
    row = (await db.execute(insert(venues).values(**values).returning(*venues.c))).one()
    return dict(row._mapping)


async def venue(db: Reader, venue_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    query = select(venues).where(venues.c.venue_id == venue_id)
    if for_update:
        query = query.with_for_update()
    row = (await db.execute(query)).first()
    return dict(row._mapping) if row else None


async def claim_venue(db: AsyncSession, venue_id: str) -> dict[str, Any] | None:
    """Mark the venue as having events (it can no longer be edited), in the caller's
    transaction; the row lock orders this after an edit in progress."""
    row = (
        await db.execute(
            update(venues)
            .where(venues.c.venue_id == venue_id)
            .values(in_use=True)
            .returning(*venues.c)
        )
    ).first()
    return dict(row._mapping) if row else None


async def update_venue(db: AsyncSession, venue_id: str, **values: Any) -> dict[str, Any]:
    row = (
        await db.execute(
            update(venues)
            .where(venues.c.venue_id == venue_id)
            .values(**values)
            .returning(*venues.c)
        )
    ).one()
    return dict(row._mapping)


async def venues_of(
    db: Reader, *, organizer_id: str | None, after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """Venues newest first (one organizer's, or every venue), after the keyset position."""
    conditions = []
    if organizer_id is not None:
        conditions.append(venues.c.organizer_id == organizer_id)
    if after is not None:
        conditions.append(tuple_(venues.c.created_at, venues.c.venue_id) < tuple_(*after))
    rows = await db.execute(
        select(venues)
        .where(and_(true(), *conditions))
        .order_by(venues.c.created_at.desc(), venues.c.venue_id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def venue_named(db: Reader, organizer_id: str, name: str) -> dict[str, Any] | None:
    row = (
        await db.execute(
            select(venues)
            .where(and_(venues.c.organizer_id == organizer_id, venues.c.name == name))
            .order_by(venues.c.created_at)
            .limit(1)
        )
    ).first()
    return dict(row._mapping) if row else None


async def insert_event(db: AsyncSession, **values: Any) -> dict[str, Any]:
    row = (await db.execute(insert(events).values(**values).returning(*EVENT_COLUMNS))).one()
    return dict(row._mapping)


async def event(db: Reader, event_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    query = select(*EVENT_COLUMNS, events.c.inventory_closed_at).where(
        events.c.event_id == event_id
    )
    if for_update:
        query = query.with_for_update()
    row = (await db.execute(query)).first()
    return dict(row._mapping) if row else None


async def event_titled(db: Reader, organizer_id: str, title: str) -> dict[str, Any] | None:
    row = (
        await db.execute(
            select(*EVENT_COLUMNS)
            .where(and_(events.c.organizer_id == organizer_id, events.c.title == title))
            .order_by(events.c.created_at)
            .limit(1)
        )
    ).first()
    return dict(row._mapping) if row else None


async def update_event(db: AsyncSession, event_id: str, **values: Any) -> dict[str, Any]:
    row = (
        await db.execute(
            update(events)
            .where(events.c.event_id == event_id)
            .values(**values, updated_at=func.now())
            .returning(*EVENT_COLUMNS, events.c.inventory_closed_at)
        )
    ).one()
    return dict(row._mapping)


async def on_sale(
    db: Reader,
    *,
    city: str | None,
    category: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Published events in (starts_at, event_id) order, after the keyset position `after`."""
    conditions = [events.c.status == "on_sale"]
    if city is not None:
        conditions.append(func.lower(events.c.city) == city.lower())
    if category is not None:
        conditions.append(events.c.category == category)
    if starts_after is not None:
        conditions.append(events.c.starts_at >= starts_after)
    if starts_before is not None:
        conditions.append(events.c.starts_at < starts_before)
    if after is not None:
        conditions.append(tuple_(events.c.starts_at, events.c.event_id) > tuple_(*after))
    rows = await db.execute(
        select(*EVENT_COLUMNS)
        .where(and_(*conditions))
        .order_by(events.c.starts_at, events.c.event_id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def managed(
    db: Reader,
    *,
    organizer_id: str | None,
    statuses: tuple[str, ...] | None,
    title: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Events in any of `statuses` (None: all), newest first: one organizer's, or every
    organizer's."""
    conditions = []
    if organizer_id is not None:
        conditions.append(events.c.organizer_id == organizer_id)
    if statuses is not None:
        conditions.append(events.c.status.in_(statuses))
    if title:
        conditions.append(contains(events.c.title, title))
    if after is not None:
        conditions.append(tuple_(events.c.created_at, events.c.event_id) < tuple_(*after))
    rows = await db.execute(
        select(*EVENT_COLUMNS)
        .where(and_(true(), *conditions))
        .order_by(events.c.created_at.desc(), events.c.event_id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def on_sale_with_venues(
    db: Reader, *, after_event_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Published events in event_id order with their venue's name and country (for search)."""
    conditions = [events.c.status == "on_sale"]
    if after_event_id is not None:
        conditions.append(events.c.event_id > after_event_id)
    rows = await db.execute(
        select(*EVENT_COLUMNS, venues.c.name.label("venue_name"), venues.c.country)
        .join(venues, venues.c.venue_id == events.c.venue_id)
        .where(and_(*conditions))
        .order_by(events.c.event_id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def published(db: Reader, *, after_event_id: str | None, limit: int) -> list[dict[str, Any]]:
    """Events that went on sale (cancelled ones included), in event_id order: those inventory
    must hold state for."""
    conditions: list[ColumnElement[bool]] = [events.c.published_at.is_not(None)]
    if after_event_id is not None:
        conditions.append(events.c.event_id > after_event_id)
    rows = await db.execute(
        select(events.c.event_id, events.c.status)
        .where(and_(*conditions))
        .order_by(events.c.event_id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def closing_due(db: AsyncSession, limit: int) -> list[str]:
    """Cancelled events that were on sale and whose inventory has not been closed yet."""
    rows = await db.execute(
        select(events.c.event_id)
        .where(
            and_(
                events.c.status == "cancelled",
                events.c.published_at.is_not(None),
                events.c.inventory_closed_at.is_(None),
            )
        )
        .order_by(events.c.cancelled_at)
        .limit(limit)
    )
    return [row.event_id for row in rows]


async def mark_inventory_closed(db: AsyncSession, event_id: str) -> None:
    await db.execute(
        update(events)
        .where(and_(events.c.event_id == event_id, events.c.inventory_closed_at.is_(None)))
        .values(inventory_closed_at=func.now())
    )


WAITING_ROOM_COLUMNS = tuple(c for c in waiting_rooms.c if c.name != "updated_at")


async def waiting_room(db: Reader, event_id: str) -> dict[str, Any] | None:
    row = (
        await db.execute(select(*WAITING_ROOM_COLUMNS).where(waiting_rooms.c.event_id == event_id))
    ).first()
    return dict(row._mapping) if row else None


async def put_waiting_room(db: AsyncSession, event_id: str, **values: Any) -> dict[str, Any]:
    statement = pg_insert(waiting_rooms).values(event_id=event_id, **values)
    row = (
        await db.execute(
            statement.on_conflict_do_update(
                index_elements=[waiting_rooms.c.event_id],
                set_={**values, "updated_at": func.now()},
            ).returning(*WAITING_ROOM_COLUMNS)
        )
    ).one()
    return dict(row._mapping)


async def waiting_rooms_on(db: Reader) -> list[dict[str, Any]]:
    """Every room that is on, of events that are not cancelled (those the gateway runs)."""
    rows = await db.execute(
        select(*WAITING_ROOM_COLUMNS)
        .join(events, events.c.event_id == waiting_rooms.c.event_id)
        .where(and_(waiting_rooms.c.enabled, events.c.status != "cancelled"))
        .order_by(waiting_rooms.c.event_id)
    )
    return [dict(row._mapping) for row in rows]
