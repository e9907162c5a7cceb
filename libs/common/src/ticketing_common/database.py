"""Async SQLAlchemy on asyncpg: one engine per service, a session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, text
from sqlalchemy.exc import DBAPIError
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


def contains(column: ColumnElement[str], part: str) -> ColumnElement[bool]:
    """`column` holds `part` anywhere, ignoring case; `%`, `_` and `\\` in `part` are literal
    (a search box is not a pattern language)."""
    escaped = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


# PostgreSQL cannot store U+0000 in text (22021) or in a jsonb string (22P05).
_NUL_IN_TEXT = frozenset({"22021", "22P05"})


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

    def exception_handlers(self) -> Mapping[type[Exception], ExceptionHandler]:
        return {DBAPIError: _on_database_error}


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
