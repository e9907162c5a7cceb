"""What the gateway's own routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from ticketing_gateway.status import StatusPage


async def _status_page(conn: HTTPConnection) -> StatusPage:
    page: StatusPage = conn.app.state.status_page
    return page


Status = Annotated[StatusPage, Depends(_status_page)]
