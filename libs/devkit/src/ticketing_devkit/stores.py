"""Private, disposable slices of the real PostgreSQL and Redis for one test session."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_TEST_DBS = range(1, 16)  # db 0 belongs to `make dev`


@contextmanager
def temporary_database(prefix: str = "test") -> Iterator[str]:
    """A fresh PostgreSQL database; yields its SQLAlchemy asyncpg URL and drops it afterwards."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def temporary_redis_db() -> Iterator[str]:
    """A Redis logical database claimed for this session (so concurrent test runs do not collide),
    flushed before and after; yields its URL."""
    import redis

    server = redis.Redis.from_url(REDIS_SERVER_URL)
    owner = uuid.uuid4().hex
    claimed = None
    for index in REDIS_TEST_DBS:
        if server.set(f"ticketing:test-db-claim:{index}", owner, nx=True, ex=3600):
            claimed = index
            break
    if claimed is None:
        raise RuntimeError(
            "all Redis test databases are claimed; stale claims expire within an hour"
        )
    url = f"{REDIS_SERVER_URL}/{claimed}"
    db = redis.Redis.from_url(url)
    db.flushdb()
    try:
        yield url
    finally:
        db.flushdb()
        db.close()
        server.delete(f"ticketing:test-db-claim:{claimed}")
        server.close()
