"""The benchmark's trivial upstream: {"ok":true} for every path, the JWKS (from BENCH_JWKS)
at /jwks, the events service's list of waiting rooms (BENCH_ROOMS) at /internal/waiting-rooms,
and at /openapi.json the event read declared anonymous (as events declares it: the gateway lets
it through without a token), so the gateway's cost is what gets measured."""

from __future__ import annotations

import os
from typing import Any

JWKS = os.environ.get("BENCH_JWKS", '{"keys":[]}').encode()
ROOMS = os.environ.get("BENCH_ROOMS", '{"items":[]}').encode()
OPENAPI = b'{"openapi":"3.1.0","paths":{"/api/v1/events/{event_id}":{"get":{"responses":{}}}}}'
OK = b'{"ok":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(OK)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    documents = {"/jwks": JWKS, "/internal/waiting-rooms": ROOMS, "/openapi.json": OPENAPI}
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
