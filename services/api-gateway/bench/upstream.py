"""The benchmark's trivial upstream: {"ok":true} for every path, the JWKS (from BENCH_JWKS)
at /jwks, and the events service's list of waiting rooms (BENCH_ROOMS) at
/internal/waiting-rooms, so the gateway's cost is what gets measured."""

from __future__ import annotations

import os
from typing import Any

JWKS = os.environ.get("BENCH_JWKS", '{"keys":[]}').encode()
ROOMS = os.environ.get("BENCH_ROOMS", '{"items":[]}').encode()
OK = b'{"ok":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(OK)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    documents = {"/jwks": JWKS, "/internal/waiting-rooms": ROOMS}
    if (document := documents.get(scope["path"])) is not None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": document})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": OK})


def create_app() -> Any:
    return app
