"""Async SQLAlchemy on asyncpg: one engine per service, a session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from starlette.requests import HTTPConnection

from ticketing_common.resources import Resource, resource


class Database(Resource):
    name = "database"

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = url
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("database is not started")
        return self._engine

    def session(self) -> AsyncSession:
        if self._sessions is None:
            raise RuntimeError("database is not started")
        return self._sessions()

    async def start(self) -> None:
        self._engine = create_async_engine(
            self.url,
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
            pool_pre_ping=True,
        )
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        await self.check()  # pre-warm one connection and fail fast on a bad URL

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    async def check(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))


async def _session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    async with resource(conn, Database).session() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(_session)]
