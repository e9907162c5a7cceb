"""What the gateway's own routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from ticketing_api_gateway.history import StatusRecorder
from ticketing_api_gateway.status import StatusPage


async def _status_page(conn: HTTPConnection) -> StatusPage:
    page: StatusPage = conn.app.state.status_page
    return page


Status = Annotated[StatusPage, Depends(_status_page)]


async def _status_recorder(conn: HTTPConnection) -> StatusRecorder:
    recorder: StatusRecorder = conn.app.state.status_recorder
    return recorder


History = Annotated[StatusRecorder, Depends(_status_recorder)]
