"""What booking's routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from ticketing_common.resources import provided

from ticketing_booking.console import SalesConsole
from ticketing_booking.door import Door
from ticketing_booking.saga import BookingSaga

Saga = Annotated[BookingSaga, Depends(provided(BookingSaga))]
Console = Annotated[SalesConsole, Depends(provided(SalesConsole))]
DoorService = Annotated[Door, Depends(provided(Door))]
