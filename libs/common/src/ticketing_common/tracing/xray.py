"""The aws-xray-sdk backend: a segment per request or message, sent over UDP to the X-Ray daemon
sidecar. The SDK is in maintenance since 2026-02-25 and reaches end of support on 2027-02-25;
prefer the OpenTelemetry backend (`tracing.otel`), which needs no code change here to switch.

Only the SDK's data model and emitter are used (no global recorder, no patching): segments are
built and sent by this module, so its context stays in our ContextVars.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.models import http
from aws_xray_sdk.core.models.segment import Segment
from aws_xray_sdk.core.models.trace_header import TraceHeader
from aws_xray_sdk.core.models.traceid import TraceId
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing_common.logging import trace_id_var
from ticketing_common.tracing import (
    TRACE_HEADER_BYTES,
    Tracing,
    current_trace,
    incoming_header,
    response_header,
)


@dataclass(frozen=True, slots=True)
class _SegmentTrace:
    root: str
    parent: str
    sampled: bool

    def header(self) -> str:
        value: str = TraceHeader(
            root=self.root, parent=self.parent, sampled=int(self.sampled)
        ).to_header_str()
        return value


class XRaySdkTracing(Tracing):
    def __init__(self, *, service: str, daemon_address: str, sample_rate: float) -> None:
        self.service = service
        self.daemon_address = daemon_address
        self.sample_rate = sample_rate
        self._emitter: UDPEmitter | None = None

    async def start(self) -> None:
        self._emitter = UDPEmitter(self.daemon_address)

    async def stop(self) -> None:
        self._emitter = None  # UDP: nothing buffered, nothing to flush

    def _segment(self, header: str | None) -> Segment:
        incoming = TraceHeader.from_header_str(header) if header else None
        root = incoming.root if incoming and incoming.root else TraceId().to_id()
        if incoming is not None and incoming.sampled in (0, 1):
            sampled = bool(incoming.sampled)
        else:
            sampled = random.random() < self.sample_rate  # noqa: S311 - sampling, not secrecy
        return Segment(
            self.service,
            traceid=root,
            parent_id=incoming.parent if incoming else None,
            sampled=sampled,
        )

    def _emit(self, segment: Segment) -> None:
        if segment.sampled and self._emitter is not None:
            segment.close(time.time())
            self._emitter.send_entity(segment)

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        segment = self._segment(incoming_header(scope))
        active = _SegmentTrace(segment.trace_id, segment.id, segment.sampled)
        trace_token = current_trace.set(active)
        log_token = trace_id_var.set(active.root)
        answer = response_header(active.root, active.sampled)
        status = 500

        async def traced_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (TRACE_HEADER_BYTES, answer)]
            await send(message)

        try:
            await app(scope, receive, traced_send)
        finally:
            current_trace.reset(trace_token)
            trace_id_var.reset(log_token)
            segment.put_http_meta(http.METHOD, scope["method"])
            segment.put_http_meta(http.URL, scope["path"])
            segment.put_http_meta(http.STATUS, status)
            if 400 <= status < 500:
                segment.add_error_flag()
                if status == 429:
                    segment.add_throttle_flag()
            elif status >= 500:
                segment.add_fault_flag()
            self._emit(segment)

    def consuming(self, header: str | None, name: str) -> AbstractContextManager[None]:
        return self._consuming(header, name)

    @contextmanager
    def _consuming(self, header: str | None, name: str) -> Iterator[None]:
        segment = self._segment(header)
        segment.put_annotation("operation", name)
        active = _SegmentTrace(segment.trace_id, segment.id, segment.sampled)
        trace_token = current_trace.set(active)
        log_token = trace_id_var.set(active.root)
        try:
            yield
        except Exception:
            segment.add_fault_flag()
            raise
        finally:
            current_trace.reset(trace_token)
            trace_id_var.reset(log_token)
            self._emit(segment)
