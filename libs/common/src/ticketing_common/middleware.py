"""Pure ASGI middleware on every request: request id, body size limit, URLs without NUL, one
access log line, and the 500 problem for an unexpected error."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing_common.access_log import AccessLog
from ticketing_common.logging import request_id_var
from ticketing_common.problems import Problem, ProblemType, body_too_large

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_QUIET_PATHS = frozenset({"/health", "/ready"})


# Fresh request ids: a random per-process prefix and a counter (unique, and no syscall).
_REQUEST_ID_PREFIX = os.urandom(8).hex()
_request_ids = itertools.count()


def request_id_from(value: bytes | None) -> str:
    """The caller's X-Request-ID when it is sane, otherwise a fresh one (the gateway's proxy
    and every service read it this way)."""
    if value is not None and _SAFE_REQUEST_ID.fullmatch(value):
        return bytes(value).decode()
    return f"{_REQUEST_ID_PREFIX}{next(_request_ids):016x}"


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return request_id_from(value)
    return request_id_from(None)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, access_log: AccessLog) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = incoming_request_id(scope)
        token = request_id_var.set(request_id)
        status = 500
        limit = self.max_body_bytes

        declared = _content_length(scope)
        refusal = None
        if declared is not None and declared > limit:
            refusal = body_too_large(limit)
        elif "\x00" in scope["path"] or _has_nul(scope["query_string"]):
            # No store takes it (PostgreSQL text cannot hold U+0000) and no id or query needs it.
            refusal = Problem(400, "The URL contains a NUL character", slug=ProblemType.NUL_IN_URL)
        if refusal is not None:
            response = refusal.to_response(scope["path"])
            response.headers["x-request-id"] = request_id
            await response(scope, receive, send)
            self._log(scope, refusal.status, started)
            request_id_var.reset(token)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"The request body exceeds {limit} bytes")
            return message

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except Exception:
            # Answered here rather than by Starlette's ServerErrorMiddleware, which re-raises:
            # the server would then close the connection, and the gateway's next request on that
            # kept-alive connection would fail for someone else.
            log.exception("unhandled error", extra={"path": scope["path"]})
            if started_response:
                raise  # half a response went out: only closing the connection can end it
            problem = Problem(
                500, "An unexpected error occurred; it has been logged", slug=ProblemType.INTERNAL
            )
            await problem.to_response(scope["path"])(scope, receive, send_with_id)
        finally:
            self._log(scope, status, started)
            request_id_var.reset(token)

    def _log(self, scope: Scope, status: int, started: float) -> None:
        level = logging.DEBUG if scope["path"] in _QUIET_PATHS else logging.INFO
        if self.access_log.enabled_for(level):
            method, path = scope["method"], scope["path"]
            self.access_log.write(
                f"{method} {path} {status}",
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
                level,
            )


def _has_nul(query_string: bytes) -> bool:
    return b"%00" in query_string or b"\x00" in query_string


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def forwarded_client(peer: str, forwarded_for: str | None, trusted_proxy_hops: int) -> str:
    """The caller's address: with N trusted proxies in front, the Nth entry from the right of
    X-Forwarded-For (entries further left are whatever the client chose to send); else the
    connection's `peer`."""
    if trusted_proxy_hops <= 0 or not forwarded_for:
        return peer
    hops = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if not hops:
        return peer
    return hops[-trusted_proxy_hops] if len(hops) >= trusted_proxy_hops else hops[0]


def client_ip(conn: HTTPConnection, trusted_proxy_hops: int) -> str:
    peer = conn.client.host if conn.client else "unknown"
    return forwarded_client(peer, conn.headers.get("x-forwarded-for"), trusted_proxy_hops)
