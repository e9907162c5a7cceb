"""What the notification routes declare."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import HTTPConnection
from ticketing_common.database import Database
from ticketing_common.resources import resource


async def _connection(conn: HTTPConnection) -> AsyncIterator[AsyncConnection]:
    async with resource(conn, Database).engine.connect() as connection:
        yield connection


Connection = Annotated[AsyncConnection, Depends(_connection)]
