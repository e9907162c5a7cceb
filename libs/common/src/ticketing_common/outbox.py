"""The transactional outbox for PostgreSQL-backed producers.

`add_fact(session, fact, source)` writes the fact in the caller's transaction, so it exists exactly
when the change it describes was committed. `OutboxRelay` publishes committed rows to the bus and
marks them; a crash between publishing and marking republishes the same envelope id, which
consumers deduplicate.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ticketing_common.bus import Bus
from ticketing_common.database import Database
from ticketing_common.facts import Envelope, FactData

log = logging.getLogger(__name__)


def outbox_columns() -> list[Column[object]]:
    """The outbox's columns (for the service's metadata and its alembic migration)."""
    return [
        Column("id", String(32), primary_key=True),
        Column("type", String(64), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
    ]


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        *outbox_columns(),
        Index("ix_outbox_unpublished", "created_at", postgresql_where="published_at IS NULL"),
    )


async def add_fact(session: AsyncSession, table: Table, fact: FactData, source: str) -> Envelope:
    """Record a fact in the current transaction (the caller commits)."""
    envelope = Envelope.of(fact, source)
    await session.execute(
        insert(table).values(
            id=envelope.id, type=envelope.type, envelope=envelope.model_dump_json()
        )
    )
    return envelope


class OutboxRelay:
    """Background loop: committed outbox rows → the bus. Several replicas may run it; row locks
    (FOR UPDATE SKIP LOCKED) keep them from publishing the same batch at once."""

    def __init__(
        self,
        database: Database,
        table: Table,
        bus: Bus,
        *,
        batch_size: int = 100,
        poll_interval_s: float = 0.1,
        keep_published: timedelta = timedelta(days=3),
    ) -> None:
        self.database = database
        self.table = table
        self.bus = bus
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.keep_published = keep_published

    async def run(self, app: FastAPI | None = None) -> None:
        cleaned = datetime.now(UTC)
        while True:
            published = await self.relay_once()
            if datetime.now(UTC) - cleaned > timedelta(hours=1):
                await self.delete_old()
                cleaned = datetime.now(UTC)
            if published < self.batch_size:
                await asyncio.sleep(self.poll_interval_s)

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows, oldest first. Returns how many."""
        table = self.table
        async with self.database.session() as session, session.begin():
            rows = (
                await session.execute(
                    select(table.c.id, table.c.envelope)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.created_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if rows:
                await self.bus.publish_envelopes(
                    [Envelope.model_validate_json(row.envelope) for row in rows]
                )
                await session.execute(
                    update(table)
                    .where(table.c.id.in_([row.id for row in rows]))
                    .values(published_at=func.now())
                )
        return len(rows)

    async def delete_old(self) -> None:
        cutoff = datetime.now(UTC) - self.keep_published
        async with self.database.session() as session, session.begin():
            await session.execute(delete(self.table).where(self.table.c.published_at < cutoff))
