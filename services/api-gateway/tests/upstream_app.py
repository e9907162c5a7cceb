"""A tiny upstream service for the gateway's tests, run as a real process (uvicorn).

Every path under /api/ echoes what arrived (method, raw path, query, headers, body digest) and
counts the hit. Query parameters change its behaviour: `sleep=<s>` answers late, `status=<n>`
answers with that status, `size=<n>` answers with n bytes. Special paths:

  /api/.../hop-headers          answers with hop-by-hop headers a proxy must strip
  /api/.../redirect             307 to /api/v1/bookings at the address it was called on (as a
                                framework's trailing-slash redirect does), with a Link likewise
  /openapi.json                 a small document: one public path under the prefix named by
                                UPSTREAM_PREFIX, one /internal path, schemas Thing (its own shape)
                                and HTTPValidationError (the same everywhere); and, as it plays
                                every service, the routes they declare anonymous (DECLARED) and a
                                few they protect
  /api/.../stream/<token>       sends a first chunk, then the rest once /_release/<token> is hit
  /api/.../upload/<token>       reads the body as it comes, recording progress in /_uploads/<token>
  /_hits                        how many /api/ requests arrived
  /ready                        a `database` check; 503 when UPSTREAM_NOT_READY is set; 200
                                `degraded` with UPSTREAM_DEGRADED
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import defaultdict
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

NAME = os.environ.get("UPSTREAM_NAME", "upstream")
NOT_READY = bool(os.environ.get("UPSTREAM_NOT_READY"))
DEGRADED = bool(os.environ.get("UPSTREAM_DEGRADED"))
PREFIX = os.environ.get("UPSTREAM_PREFIX", "/api/v1/things")

hits = 0
releases: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
uploads: dict[str, int] = {}


async def send_json(send: Send, status: int, body: Any, headers: list[Any] | None = None) -> None:
    raw = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


async def read_body(receive: Receive, progress_key: str | None = None) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client went away")
        chunk = message.get("body", b"")
        chunks.append(chunk)
        if progress_key is not None:
            uploads[progress_key] = uploads.get(progress_key, 0) + len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def query_params(scope: Scope) -> dict[str, str]:
    params = {}
    for pair in scope["query_string"].decode().split("&"):
        if "=" in pair:
            key, value = pair.split("=", 1)
            params[key] = value
    return params


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global hits
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path: str = scope["path"]
    if path == "/health":
        await send_json(send, 200, {"status": "ok"})
        return
    if path == "/ready":
        # As a real service answers: each dependency checked (here one pretend database).
        if NOT_READY:
            checks = {"database": {"status": "failing", "error": "down", "latency_ms": 1.0}}
            await send_json(send, 503, {"status": 503, "service": NAME, "checks": checks})
        elif DEGRADED:
            checks = {"state": {"status": "degraded", "detail": "rebuilding", "latency_ms": 1.0}}
            await send_json(send, 200, {"status": "degraded", "service": NAME, "checks": checks})
        else:
            checks = {"database": {"status": "ok", "latency_ms": 1.0}}
            await send_json(send, 200, {"status": "ready", "service": NAME, "checks": checks})
        return
    if path == "/openapi.json":
        await send_json(send, 200, openapi_document())
        return
    if path == "/_hits":
        await send_json(send, 200, {"hits": hits})
        return
    if path.startswith("/_release/"):
        releases[path.rsplit("/", 1)[1]].set()
        await send_json(send, 200, {})
        return
    if path.startswith("/_uploads/"):
        await send_json(send, 200, {"received": uploads.get(path.rsplit("/", 1)[1], 0)})
        return

    hits += 1
    params = query_params(scope)
    if "sleep" in params:
        await asyncio.sleep(float(params["sleep"]))
    if path.endswith("/redirect"):
        host = dict(scope["headers"]).get(b"host", b"")
        here = b"http://" + host
        await send_json(
            send,
            307,
            {},
            [
                (b"location", here + b"/api/v1/bookings"),
                (b"link", b"<" + here + b'/api/v1/bookings?page=2>; rel="next"'),
            ],
        )
        return
    if path.endswith("/hop-headers"):
        await send_json(
            send,
            200,
            {"upstream": NAME},
            [
                (b"keep-alive", b"timeout=99"),
                (b"proxy-authenticate", b"Basic"),
                (b"trailer", b"x-checksum"),
                (b"connection", b"x-upstream-private"),
                (b"x-upstream-private", b"secret"),
                (b"x-upstream-custom", b"kept"),
            ],
        )
        return
    if "/stream/" in path:
        token = path.rsplit("/", 1)[1]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        try:
            await asyncio.wait_for(releases[token].wait(), 10)
            await send({"type": "http.response.body", "body": b"second"})
        except TimeoutError:
            await send({"type": "http.response.body", "body": b"never-released"})
        return
    if "/upload/" in path:
        body = await read_body(receive, path.rsplit("/", 1)[1])
        await send_json(send, 200, {"received": len(body)})
        return
    if "size" in params:
        size = int(params["size"])
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"content-length", str(size).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"x" * size})
        return

    body = await read_body(receive)
    await send_json(
        send,
        int(params.get("status", 200)),
        {
            "upstream": NAME,
            "method": scope["method"],
            "path": path,
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body_bytes": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        },
    )


BEARER = [{"HTTPBearer": []}]
OPTIONAL = [{}, {"HTTPBearer": []}]  # an OptionalUser route
# (method, path, security) as the platform's services document them: None is no user at all.
DECLARED = [
    ("POST", "/api/v1/auth/register", None),
    ("POST", "/api/v1/auth/login", None),
    ("POST", "/api/v1/auth/refresh", None),
    ("POST", "/api/v1/auth/logout", None),
    ("GET", "/api/v1/auth/jwks", None),
    ("GET", "/api/v1/auth/me", BEARER),
    ("GET", "/api/v1/events", OPTIONAL),
    ("POST", "/api/v1/events", BEARER),
    ("GET", "/api/v1/events/{event_id}", OPTIONAL),
    ("PATCH", "/api/v1/events/{event_id}", BEARER),
    ("GET", "/api/v1/events/{event_id}/seatmap", None),
    ("GET", "/api/v1/events/{event_id}/layout", None),
    ("GET", "/api/v1/events/{event_id}/waiting-room", None),
    ("PUT", "/api/v1/events/{event_id}/waiting-room", BEARER),
    ("GET", "/api/v1/venues/{venue_id}", OPTIONAL),
    ("GET", "/api/v1/search/events", None),
    ("GET", "/api/v1/search/suggest", None),
    ("GET", "/api/v1/inventory/events/{event_id}/availability", None),
    ("GET", "/api/v1/inventory/events/{event_id}/availability/bits", None),
    ("POST", "/api/v1/inventory/events/{event_id}/holds", BEARER),
    ("GET", "/api/v1/bookings", BEARER),
    ("GET", "/api/v1/bookings/tickets/public-key", None),
    ("POST", "/api/v1/payments/webhooks/stripe", None),
    ("GET", "/api/v1/payments/{payment_id}", BEARER),
]


def openapi_document() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Thing"}
    answer = {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}}}
    paths: dict[str, dict[str, Any]] = {}
    for method, path, security in DECLARED:
        operation: dict[str, Any] = {"operationId": f"{method} {path}", "responses": answer}
        if security is not None:
            operation["security"] = security
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": NAME, "version": "1"},
        "paths": {
            **paths,
            f"{PREFIX}/{{thing_id}}": {"get": {"operationId": f"get_{NAME}", "responses": answer}},
            "/internal/secret": {"post": {"operationId": f"secret_{NAME}", "responses": answer}},
            "/health": {"get": {"operationId": f"health_{NAME}", "responses": answer}},
        },
        "components": {
            "schemas": {
                "Thing": {"type": "object", "properties": {NAME: {"type": "string"}}},
                "HTTPValidationError": {"type": "object", "title": "HTTPValidationError"},
            }
        },
    }


def create_app() -> Any:
    return app
