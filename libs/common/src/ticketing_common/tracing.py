"""AWS X-Ray tracing, kept behind this one module and off unless a daemon address is configured.

The middleware opens a segment per request, honours an incoming `X-Amzn-Trace-Id` (root, parent,
sampling decision), returns it on the response, and `outgoing_trace_header()` gives the header
that outbound calls carry so the next service joins the same trace.
"""

from __future__ import annotations

import random
import time
from contextvars import ContextVar
from dataclasses import dataclass

from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.models import http
from aws_xray_sdk.core.models.segment import Segment
from aws_xray_sdk.core.models.trace_header import TraceHeader
from aws_xray_sdk.core.models.traceid import TraceId
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing_common.logging import trace_id_var

TRACE_HEADER = "X-Amzn-Trace-Id"
_TRACE_HEADER_LOWER = TRACE_HEADER.lower().encode()


@dataclass(frozen=True, slots=True)
class TraceContext:
    root: str
    parent: str | None
    sampled: bool


current_trace: ContextVar[TraceContext | None] = ContextVar("current_trace", default=None)


def outgoing_trace_header() -> str | None:
    """The X-Amzn-Trace-Id for a call made while serving the current request."""
    trace = current_trace.get()
    if trace is None:
        return None
    header = TraceHeader(root=trace.root, parent=trace.parent, sampled=int(trace.sampled))
    value: str = header.to_header_str()
    return value


class XRayMiddleware:
    def __init__(
        self, app: ASGIApp, *, service: str, daemon_address: str, sample_rate: float = 0.05
    ) -> None:
        self.app = app
        self.service = service
        self.sample_rate = sample_rate
        self.emitter = UDPEmitter(daemon_address)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = self._incoming(scope)
        root = incoming.root if incoming and incoming.root else TraceId().to_id()
        if incoming is not None and incoming.sampled in (0, 1):
            sampled = bool(incoming.sampled)
        else:
            sampled = random.random() < self.sample_rate  # noqa: S311 - sampling, not secrecy
        segment = Segment(
            self.service,
            traceid=root,
            parent_id=incoming.parent if incoming else None,
            sampled=sampled,
        )
        trace_token = current_trace.set(TraceContext(root, segment.id, sampled))
        log_token = trace_id_var.set(root)
        response_header = TraceHeader(root=root, sampled=int(sampled)).to_header_str().encode()
        status = 500

        async def traced_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (_TRACE_HEADER_LOWER, response_header),
                ]
            await send(message)

        try:
            await self.app(scope, receive, traced_send)
        finally:
            current_trace.reset(trace_token)
            trace_id_var.reset(log_token)
            if sampled:
                self._emit(segment, scope, status)

    @staticmethod
    def _incoming(scope: Scope) -> TraceHeader | None:
        for name, value in scope["headers"]:
            if name == _TRACE_HEADER_LOWER:
                return TraceHeader.from_header_str(value.decode("latin-1"))
        return None

    def _emit(self, segment: Segment, scope: Scope, status: int) -> None:
        segment.put_http_meta(http.METHOD, scope["method"])
        segment.put_http_meta(http.URL, scope["path"])
        segment.put_http_meta(http.STATUS, status)
        if 400 <= status < 500:
            segment.add_error_flag()
            if status == 429:
                segment.add_throttle_flag()
        elif status >= 500:
            segment.add_fault_flag()
        segment.end_time = time.time()
        segment.close(segment.end_time)
        self.emitter.send_entity(segment)
