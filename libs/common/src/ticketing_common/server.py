"""How the services are served: uvicorn's httptools protocol with a header-read timeout, and a
response's writes of one event-loop turn sent in one piece.

uvicorn closes idle keep-alive connections, but a client that opens a connection and sends its
request headers a byte at a time (or never finishes them) is kept for ever: a few hundred such
clients hold a process's connections (slowloris). This protocol gives every request
`HEADER_READ_TIMEOUT_S` (default 10 s) from its first byte (or from the connection's opening) to
the end of its headers, then answers 408 and closes. Bodies are the app's business (the gateway
and the request middleware limit them).

    uvicorn --http ticketing_common.server:HttpToolsProtocol ...

Behind the AWS load balancer (CloudFront in front of the ALB) the gateway only ever receives
complete requests: the ALB reads a request's headers itself before it picks a target, and closes
client connections idle for its `idle_timeout.timeout_seconds` (infra's platform sets it). The
timeout here protects every other way in: `make dev`, `docker compose up`, a service reached
directly.

uvicorn writes a response's status line and headers, then each body message, each straight to the
socket: two syscalls and two TCP segments for the smallest answer. `_CoalescedWrites` holds what
is written during one turn of the event loop and sends it as one write at the end of the turn
(at once when 64 KiB are waiting, so a streamed body keeps uvicorn's flow control): one syscall
per answer. On the gateway's proxied request that was about a tenth of its CPU.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol

HEADER_READ_TIMEOUT_S = float(os.environ.get("HEADER_READ_TIMEOUT_S", "10"))
_PROBLEM = (
    b'{"type":"https://ticketing-pro.com/problems/request-timeout","title":"Request Timeout",'
    b'"status":408,"detail":"The request headers took too long to arrive"}'
)
_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(_PROBLEM)
) + _PROBLEM


# Past this much waiting, writes go out at once rather than at the end of the loop's turn.
COALESCE_LIMIT_BYTES = 64 * 1024


class _CoalescedWrites:
    """A connection's transport whose writes of one event-loop turn go out as one. Every other
    use of the transport passes through; closing it sends what waits first."""

    __slots__ = ("_loop", "_pending", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)
        self._size += len(data)
        if self._size >= COALESCE_LIMIT_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._size = 0
        if not self._transport.is_closing():
            # One vectored send, the pieces not copied together first (a seat map is 250 KB).
            self._transport.writelines(pending)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()  # an upgraded connection's protocol writes to the transport itself
        self._transport.set_protocol(protocol)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpToolsProtocol(_HttpToolsProtocol):
    """uvicorn's httptools protocol, plus the header-read timeout and coalesced writes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Everything that writes (each request's cycle, 400s, 100-continue) shares the wrapper,
        # so the order of writes is kept; flow control still watches the real transport.
        self.transport = cast(asyncio.Transport, _CoalescedWrites(transport, self.loop))
        self._arm()  # a connection that never sends a byte is a request that never ends

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(HEADER_READ_TIMEOUT_S, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # The previous request is still being answered; the next one's headers (pipelined)
            # get their time once it is done.
            self._arm()
            return
        self.transport.write(_TIMED_OUT)
        self.transport.close()
