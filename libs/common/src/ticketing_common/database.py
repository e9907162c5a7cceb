"""Async SQLAlchemy on asyncpg: one engine per service, a session per request."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from ticketing_common.problems import Problem, ProblemType
from ticketing_common.resources import ExceptionHandler, Resource, resource
from ticketing_common.settings import PostgresSettings


def contains(column: ColumnElement[str], part: str) -> ColumnElement[bool]:
    """`column` holds `part` anywhere, ignoring case; `%`, `_` and `\\` in `part` are literal
    (a search box is not a pattern language)."""
    escaped = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


# PostgreSQL cannot store U+0000 in text (22021) or in a jsonb string (22P05).
_NUL_IN_TEXT = frozenset({"22021", "22P05"})
# A pooled connection unused for this long is pinged before it is handed out (the database may
# have restarted or failed over meanwhile); one in steady use is not. SQLAlchemy's pre-ping on
# every checkout costs three round trips on asyncpg (BEGIN, an empty query, ROLLBACK): half of
# a primary-key read's six.
PING_AFTER_IDLE_S = 5.0


class Database(Resource):
    name = "database"

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = url
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @classmethod
    def from_settings(cls, settings: PostgresSettings) -> Database:
        """The service's database as its settings say (DATABASE_URL, its pool)."""
        return cls(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )

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
            self.url, pool_size=self.pool_size, max_overflow=self.max_overflow
        )
        _ping_when_idle(self._engine)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        await self.check()  # pre-warm one connection and fail fast on a bad URL

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    async def check(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def exception_handlers(self) -> Mapping[type[Exception], ExceptionHandler]:
        return {DBAPIError: _on_database_error}


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a connection at checkout only if it sat in the pool longer than PING_AFTER_IDLE_S; a
    dead one is replaced before anyone uses it (DisconnectionError: the pool reconnects and
    retries)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_S:
            return  # new, or in steady use
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("the pooled connection is dead") from exc


async def _on_database_error(request: Request, exc: Exception) -> Response:
    """Text a caller sent that PostgreSQL refuses is the caller's 400; anything else is ours."""
    if getattr(getattr(exc, "orig", None), "sqlstate", None) in _NUL_IN_TEXT:
        problem = Problem(
            400, "Text may not contain the NUL character (U+0000)", slug=ProblemType.NUL_IN_TEXT
        )
        return problem.to_response(request.url.path)
    raise exc


async def _session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    async with resource(conn, Database).session() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(_session)]
