"""How the services are served: uvicorn's httptools protocol with a header-read timeout.

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
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

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


class HttpToolsProtocol(_HttpToolsProtocol):
    """uvicorn's httptools protocol, plus the header-read timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
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
