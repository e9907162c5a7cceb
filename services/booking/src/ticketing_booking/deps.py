"""What booking's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from ticketing_booking.saga import BookingSaga


async def _saga(conn: HTTPConnection) -> BookingSaga:
    saga: BookingSaga = conn.app.state.saga
    return saga


Saga = Annotated[BookingSaga, Depends(_saga)]
