"""What the search routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from ticketing_search.backend import SearchBackend


async def _backend(conn: HTTPConnection) -> SearchBackend:
    backend = getattr(conn.app.state, SearchBackend.name, None)
    if not isinstance(backend, SearchBackend):
        raise RuntimeError("the search backend is not configured")
    return backend


Backend = Annotated[SearchBackend, Depends(_backend)]
