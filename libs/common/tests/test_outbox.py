import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import create_async_engine
from ticketing_common.bus import Bus, Consumer, Subscriptions
from ticketing_common.database import Database
from ticketing_common.facts import Envelope, EventCancelled
from ticketing_common.outbox import OutboxRelay, add_fact, outbox_table
from ticketing_common.redis import RedisClient

metadata = MetaData()
outbox = outbox_table(metadata)
events = Table("events", metadata, Column("id", String, primary_key=True), Column("n", Integer))


@pytest.fixture(scope="module")
async def database(database_url: str) -> AsyncIterator[Database]:
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    db = Database(database_url)
    await db.start()
    yield db
    await db.stop()


class CrashAfterPublish(Bus):
    """Publishes, then dies before the relay can mark the row: the crash window."""

    async def publish_envelopes(self, envelopes: Sequence[Envelope]) -> list[str]:
        await super().publish_envelopes(envelopes)
        raise ConnectionResetError("relay crashed right after XADD")


def cancelled(event_id: str) -> EventCancelled:
    return EventCancelled(event_id=event_id, organizer_id="org")


async def change_with_fact(database: Database, event_id: str, *, commit: bool) -> None:
    async with database.session() as session:
        await session.execute(insert(events).values(id=event_id, n=1))
        await add_fact(session, outbox, cancelled(event_id), "events")
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def test_a_rolled_back_change_publishes_nothing(
    database: Database, redis: RedisClient
) -> None:
    await change_with_fact(database, "rolled-back", commit=False)
    assert await OutboxRelay(database, outbox, Bus(redis, "events")).relay_once() == 0
    assert await redis.client.xlen("facts:event") == 0


async def test_a_crash_after_publishing_still_delivers_exactly_once_per_group(
    database: Database, redis: RedisClient
) -> None:
    seen: dict[str, list[str]] = {"search": [], "booking": []}

    def recorder(group: str) -> Any:
        async def handle(envelope: Envelope, fact: EventCancelled) -> None:
            seen[group].append(fact.event_id)

        return handle

    consumers = [
        Consumer(redis, g, Subscriptions().on_delivery(EventCancelled, recorder(g))) for g in seen
    ]
    for c in consumers:
        await c.ensure_groups()

    await change_with_fact(database, "ev-1", commit=True)
    with pytest.raises(ConnectionResetError):
        await OutboxRelay(database, outbox, CrashAfterPublish(redis, "events")).relay_once()
    # The restarted relay finds the row still unpublished and publishes it again.
    assert await OutboxRelay(database, outbox, Bus(redis, "events")).relay_once() == 1
    assert await OutboxRelay(database, outbox, Bus(redis, "events")).relay_once() == 0
    assert await redis.client.xlen("facts:event") == 2  # the duplicate is on the stream...

    for c in consumers:
        for _ in range(3):
            await c.read_new("facts:event")
    assert seen == {"search": ["ev-1"], "booking": ["ev-1"]}  # ...and handled once per group

    async with database.session() as session:
        published = (await session.execute(select(outbox.c.published_at))).scalars().all()
    assert all(published)


async def test_relays_in_parallel_do_not_publish_a_row_twice(
    database: Database, redis: RedisClient
) -> None:
    for n in range(50):
        await change_with_fact(database, f"par-{n}", commit=True)
    relays = [OutboxRelay(database, outbox, Bus(redis, "events"), batch_size=5) for _ in range(4)]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.relay_once():
            pass

    await asyncio.gather(*(drain(r) for r in relays))
    entries = await redis.client.xrange("facts:event")
    ids = [
        Envelope.model_validate_json(fields[b"envelope"]).data["event_id"] for _, fields in entries
    ]
    assert sorted(ids) == sorted(f"par-{n}" for n in range(50))
