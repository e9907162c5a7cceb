"""A lean HTTP/1.1 keep-alive client for the hot hops: the gateway's call to a service, calls
between services (`http_client.ServiceClient`) and booking's DynamoDB calls.

Why not aiohttp here: on the gateway's proxied GET, py-spy puts 45 % of the gateway's Python
samples in aiohttp's client (its request and response objects, auto headers, cookie and redirect
handling, timers), more than the gateway's own work. This client does what a reverse proxy's
upstream hop needs and nothing else: a pool of keep-alive connections per origin, the request
written in one `write`, the response parsed by httptools (llhttp, as uvicorn's server side),
bodies whole or streamed in both directions, one deadline per request (`bench/upstream_clients.py`
in the gateway measures it against aiohttp's). What is off the hot path (readiness checks,
OpenAPI documents, JWKS) keeps aiohttp.

Errors: `UpstreamError` (could not connect, the connection broke, the answer was not HTTP, the
request body's source failed: its exception is the cause), `TimeoutError` past the deadline.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_FRAMING = frozenset({"content-length", "transfer-encoding", "host", "connection"})


class UpstreamError(Exception):
    """The exchange failed before a complete answer arrived."""


@dataclass(frozen=True, slots=True)
class Timeout:
    total_s: float  # from asking to the last byte of the answer
    connect_s: float | None = None  # a new connection's share of it


@dataclass(frozen=True, slots=True)
class Origin:
    host: str
    port: int
    tls: bool

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        return cls(parts.hostname, parts.port or (443 if tls else 80), tls)

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


class Response:
    """An answer: status and headers at once, the body as it arrives. `release()` when done
    (the connection goes back to the pool only if the body was read to its end)."""

    __slots__ = (
        "_chunks",
        "_connection",
        "_deadline",
        "_failure",
        "_waiter",
        "complete",
        "content_length",
        "raw_headers",
        "status",
    )

    def __init__(self, connection: _Connection, deadline: float) -> None:
        self._connection: _Connection | None = connection
        self._deadline = deadline
        self._chunks: collections.deque[bytes] = collections.deque()
        self._failure: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.content_length: int | None = None
        self.complete = False  # the whole body has arrived

    async def read(self) -> bytes:
        """The whole body."""
        while not self.complete:
            await self._wait()
        body = b"".join(self._chunks)
        self._chunks.clear()
        return body

    async def iter_any(self) -> AsyncIterator[bytes]:
        """The body in the pieces it arrives in."""
        while True:
            while self._chunks:
                yield self._chunks.popleft()
            if self.complete:
                return
            await self._wait()

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.finished(self)

    async def _wait(self) -> None:
        if self._failure is not None:
            raise self._failure
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout_at(self._deadline):
                await self._waiter
        finally:
            self._waiter = None
        if self._failure is not None:
            raise self._failure

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, failure: BaseException) -> None:
        self._failure = failure
        self._wake()


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one exchange at a time."""

    def __init__(self, pool: _OriginPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.response: Response | None = None
        self.headers_done: asyncio.Future[None] | None = None
        self.reusable = False
        self.idle_since = 0.0
        self._writable: asyncio.Future[None] | None = None
        self._lost = False
        self._chunked = False  # the answer's body is chunked

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.response is None or self.response.complete:
            self.close()  # bytes nobody asked for: the connection is not usable
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._broken(UpstreamError(f"the answer is not HTTP/1.1: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self.reusable = False
        if self._writable is not None and not self._writable.done():
            self._writable.set_exception(UpstreamError("the connection closed while sending"))
        response = self.response
        if response is not None and not response.complete:
            if (
                self.headers_done is not None
                and self.headers_done.done()
                and (response.content_length is None and not self._chunked)
            ):
                response.complete = True  # an answer delimited by the connection's end
                response._wake()
            else:
                self._broken(UpstreamError(f"the connection closed mid-answer ({exc!r})"))
        self.pool.forget(self)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # --- httptools callbacks -------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.response is not None
        self.response.raw_headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length":
            self.response.content_length = int(value) if value.strip().isdigit() else None
        elif lower == b"transfer-encoding":
            self._chunked = True

    def on_headers_complete(self) -> None:
        assert self.response is not None
        assert self.headers_done is not None
        self.response.status = self.parser.get_status_code()
        self.reusable = self.parser.should_keep_alive()
        if not self.headers_done.done():
            self.headers_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        assert self.response is not None
        self.response._chunks.append(body)
        self.response._wake()

    def on_message_complete(self) -> None:
        assert self.response is not None
        self.response.complete = True
        self.response._wake()

    # --- the pool's side -----------------------------------------------------------------------

    async def send(
        self, head: bytes, body: bytes | AsyncIterator[bytes] | None, chunked: bool, deadline: float
    ) -> Response:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        response = Response(self, deadline)
        self.response = response
        self.headers_done = loop.create_future()
        self._chunked = False
        self.reusable = False
        if body is None or isinstance(body, bytes):
            self.transport.write(head + body if body else head)
        else:
            self.transport.write(head)
            await self._stream(body, chunked)
        if not self.headers_done.done():
            await self.headers_done
        return response

    async def _stream(self, body: AsyncIterator[bytes], chunked: bool) -> None:
        assert self.transport is not None
        try:
            async for chunk in body:
                if self._lost:
                    raise UpstreamError("the connection closed while sending")
                if not chunk:
                    continue
                self.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                if self._writable is not None:
                    await self._writable
        except UpstreamError:
            raise
        except Exception as exc:  # the body's source failed (the client went away, too large)
            raise UpstreamError(f"the request body could not be sent: {exc!r}") from exc
        if chunked:
            self.transport.write(b"0\r\n\r\n")

    def finished(self, response: Response) -> None:
        """The caller is done with `response`: keep the connection if it can serve again."""
        self.response = None
        self.headers_done = None
        if response.complete and self.reusable and not self._lost:
            self.idle_since = time.monotonic()
            self.pool.idle.append(self)
        else:
            self.close()
        self.pool.slots.release()

    def _broken(self, failure: BaseException) -> None:
        self.reusable = False
        if self.headers_done is not None and not self.headers_done.done():
            self.headers_done.set_exception(failure)
        if self.response is not None:
            self.response._fail(failure)

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class _OriginPool:
    def __init__(self, origin: Origin, limit: int, keepalive_s: float) -> None:
        self.origin = origin
        self.keepalive_s = keepalive_s
        self.idle: collections.deque[_Connection] = collections.deque()
        self.slots = asyncio.Semaphore(limit)
        self.open: set[_Connection] = set()

    async def connection(self, connect_s: float | None) -> _Connection:
        """An idle connection, or a new one within `connect_s` (and the caller's deadline)."""
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()  # the most recently used: the least likely to be stale
            if connection._lost or now - connection.idle_since > self.keepalive_s:
                # Idle too long: the server may be closing it (uvicorn after 5 s) even now.
                connection.close()
                continue
            return connection
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_s):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self),
                    self.origin.host,
                    self.origin.port,
                    ssl=self.origin.tls or None,
                )
        except OSError as exc:
            raise UpstreamError(f"cannot connect to {self.origin.host_header}: {exc}") from exc
        self.open.add(connection)
        return connection

    def forget(self, connection: _Connection) -> None:
        self.open.discard(connection)
        with contextlib.suppress(ValueError):  # not idle: in use, or dropped already
            self.idle.remove(connection)

    def close(self) -> None:
        for connection in list(self.open):
            connection.close()


class Http1Client:
    """Keep-alive connections to any number of origins, at most `limit_per_origin` each (a
    request beyond waits for one, within its deadline). Idle connections older than
    `keepalive_s` are not reused: keep it below the servers' own keep-alive (uvicorn's 5 s)."""

    def __init__(self, *, limit_per_origin: int = 100, keepalive_s: float = 4.0) -> None:
        self.limit_per_origin = limit_per_origin
        self.keepalive_s = keepalive_s
        self._pools: dict[Origin, _OriginPool] = {}

    async def request(
        self,
        method: str,
        origin: Origin,
        target: str,
        headers: Iterable[tuple[str, str]],
        *,
        timeouts: Timeout,
        body: bytes | AsyncIterator[bytes] | None = None,
    ) -> Response:
        """Send `method target` with `headers` (Host and the body's framing are this client's:
        Content-Length for bytes, the given Content-Length or else chunked for a stream)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeouts.total_s
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = _OriginPool(
                origin, self.limit_per_origin, self.keepalive_s
            )
        lines = [f"{method} {target} HTTP/1.1\r\nHost: {origin.host_header}\r\n"]
        declared = None
        for name, value in headers:
            lower = name.lower()
            if lower in _FRAMING:
                if lower == "content-length":
                    declared = value
                continue
            lines.append(f"{name}: {value}\r\n")
        chunked = False
        if isinstance(body, bytes):
            lines.append(f"Content-Length: {len(body)}\r\n")
        elif body is not None:
            if declared is not None:
                lines.append(f"Content-Length: {declared}\r\n")
            else:
                lines.append("Transfer-Encoding: chunked\r\n")
                chunked = True
        elif method in _BODY_METHODS:
            lines.append("Content-Length: 0\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        acquired = False
        connection: _Connection | None = None
        try:
            async with asyncio.timeout_at(deadline):  # one timer for the whole exchange
                await pool.slots.acquire()
                acquired = True
                connection = await pool.connection(timeouts.connect_s)
                response = await connection.send(head, body, chunked, deadline)
        except BaseException:
            if connection is not None:
                connection.response = None
                connection.close()
            if acquired:
                pool.slots.release()
            raise
        if method == "HEAD":
            # llhttp cannot be told the answer has no body: take it as complete, and do not
            # reuse the connection (its parser would read the next answer as this body).
            response.complete = True
            connection.reusable = False
        return response

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
