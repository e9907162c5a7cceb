"""What booking's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from ticketing_booking.console import SalesConsole
from ticketing_booking.door import Door
from ticketing_booking.saga import BookingSaga


async def _saga(conn: HTTPConnection) -> BookingSaga:
    saga: BookingSaga = conn.app.state.saga
    return saga


async def _console(conn: HTTPConnection) -> SalesConsole:
    console: SalesConsole = conn.app.state.console
    return console


async def _door(conn: HTTPConnection) -> Door:
    door: Door = conn.app.state.door
    return door


Saga = Annotated[BookingSaga, Depends(_saga)]
Console = Annotated[SalesConsole, Depends(_console)]
DoorService = Annotated[Door, Depends(_door)]
