"""Tracing, behind this one seam; off unless an exporter address is configured.

Two backends, chosen by which address is set (never both):

- **OpenTelemetry** (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:4318`: the ADOT
  collector sidecar): the OpenTelemetry SDK with AWS X-Ray's propagator and ID generator, so
  traces show in X-Ray and `X-Amzn-Trace-Id` ties a request together as it always did. AWS's
  recommended path; the default in the task definitions.
- **aws-xray-sdk** (`XRAY_DAEMON_ADDRESS`, the X-Ray daemon sidecar): kept for installations
  that run the daemon today. The SDK is in maintenance since 2026-02-25 and reaches end of
  support on 2027-02-25.

Either way: one span (segment) per request, honouring an incoming `X-Amzn-Trace-Id` (root,
parent, sampling decision) and answering with it; `outgoing_trace_header()` for calls to other
services and for the facts a request publishes; and `Tracing.consuming()` around each bus
message, so its handler joins the trace of the request that published the fact. Log lines carry
the X-Ray trace id (`trace_id`) with both.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from ticketing_common.settings import ServiceSettings

TRACE_HEADER = "X-Amzn-Trace-Id"
TRACE_HEADER_BYTES = TRACE_HEADER.lower().encode()


class ActiveTrace(Protocol):
    """The span (segment) the current request or message runs in."""

    @property
    def root(self) -> str:
        """The X-Ray trace id (`1-5759e988-bd862e3fe1be46a994272793`)."""

    def header(self) -> str:
        """The `X-Amzn-Trace-Id` a call made from here carries (this span as the parent)."""


current_trace: ContextVar[ActiveTrace | None] = ContextVar("current_trace", default=None)


def outgoing_trace_header() -> str | None:
    """The X-Amzn-Trace-Id for a call (or a fact) made while serving the current request."""
    trace = current_trace.get()
    return trace.header() if trace is not None else None


def response_header(root: str, sampled: bool) -> bytes:
    """What a traced response carries: the trace it belongs to and the sampling decision."""
    return f"Root={root};Sampled={int(sampled)}".encode()


def incoming_header(scope: Scope) -> str | None:
    value: bytes
    for name, value in scope["headers"]:
        if name == TRACE_HEADER_BYTES:
            return value.decode("latin-1")
    return None


class Tracing:
    """A configured backend. `create_service_app` starts it first and stops it last (stopping
    flushes what is still buffered), publishes it as `app.state.tracing`, and wraps the app in
    `TracingMiddleware`."""

    async def start(self) -> None:
        """Open the exporter."""

    async def stop(self) -> None:
        """Flush and close the exporter."""

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one HTTP request inside a server span."""
        raise NotImplementedError

    def consuming(self, header: str | None, name: str) -> AbstractContextManager[None]:
        """A span around handling one message whose producer sent `header` along."""
        raise NotImplementedError


class TracingMiddleware:
    def __init__(self, app: ASGIApp, *, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.tracing.serve(self.app, scope, receive, send)


def configure(settings: ServiceSettings) -> Tracing | None:
    """The backend the settings ask for, or None (tracing off). Backends import their SDK only
    here, so a service that does not trace never loads one."""
    if settings.otel_exporter_otlp_endpoint:
        from ticketing_common.tracing.otel import OpenTelemetryTracing

        return OpenTelemetryTracing(
            service=settings.service_name,
            endpoint=settings.otel_exporter_otlp_endpoint,
            sample_rate=settings.trace_sample_rate,
        )
    if settings.xray_daemon_address:
        from ticketing_common.tracing.xray import XRaySdkTracing

        return XRaySdkTracing(
            service=settings.service_name,
            daemon_address=settings.xray_daemon_address,
            sample_rate=settings.trace_sample_rate,
        )
    return None
