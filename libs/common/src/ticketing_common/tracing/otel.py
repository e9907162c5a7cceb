"""The OpenTelemetry backend: the SDK with AWS X-Ray's ID generator (trace ids that start with
their epoch second, as X-Ray requires) and propagator (`X-Amzn-Trace-Id` in and out), exporting
OTLP over HTTP to the ADOT collector sidecar, which sends the spans on to X-Ray.

Sampling is parent-based: an incoming `Sampled=0/1` is obeyed, a new trace is sampled at
`sample_rate`. An unsampled request still has a trace id (in its logs and response header) and
passes `Sampled=0` on, so the next service does not sample it either. A header with a root and no
parent (what the ALB adds: `Root=1-...`) starts this service's span in that trace, as the X-Ray
SDK does, so the load balancer's access log and the trace share an id; OpenTelemetry's
propagator alone would drop such a header and start a new trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing_common.logging import trace_id_var
from ticketing_common.tracing import (
    TRACE_HEADER,
    TRACE_HEADER_BYTES,
    Tracing,
    current_trace,
    incoming_header,
    response_header,
)

INSTRUMENTATION = "ticketing_common.tracing"
_PROPAGATOR = AwsXRayPropagator()
_ROOT = re.compile(r"Root=1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})")
# The trace id a span without a parent adopts (a root-only incoming header), for the generator.
_adopted_trace_id: ContextVar[int | None] = ContextVar("adopted_trace_id", default=None)


class _IdGenerator(AwsXRayIdGenerator):
    """X-Ray trace ids (epoch second first), or the root an incoming header named."""

    def generate_trace_id(self) -> int:
        adopted = _adopted_trace_id.get()
        return adopted if adopted is not None else super().generate_trace_id()


@dataclass(slots=True)
class _SpanTrace:
    span: trace.Span
    root: str = field(init=False)
    sampled: bool = field(init=False)
    _header: str | None = None

    def __post_init__(self) -> None:
        context = self.span.get_span_context()
        trace_id = f"{context.trace_id:032x}"
        self.root = f"1-{trace_id[:8]}-{trace_id[8:]}"  # X-Ray's form of the same id
        self.sampled = context.trace_flags.sampled

    def header(self) -> str:
        if self._header is None:  # only for a request that calls out or publishes
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(self.span))
            self._header = carrier[TRACE_HEADER]
        return self._header


def _parent(header: str | None) -> tuple[Context, int | None]:
    """The remote parent `header` names, or (root only) the trace id to adopt."""
    if not header:
        return Context(), None
    context = _PROPAGATOR.extract({TRACE_HEADER: header})
    if trace.get_current_span(context).get_span_context().is_valid:
        return context, None
    root = _ROOT.search(header)
    return context, int(root.group(1) + root.group(2), 16) if root else None


class OpenTelemetryTracing(Tracing):
    def __init__(
        self,
        *,
        service: str,
        endpoint: str,
        sample_rate: float,
        exporter: SpanExporter | None = None,  # tests: an in-memory exporter
    ) -> None:
        self.service = service
        self.endpoint = endpoint.rstrip("/") + "/v1/traces"
        self.sample_rate = sample_rate
        self._exporter = exporter
        self._provider: TracerProvider | None = None
        self._tracer: trace.Tracer = trace.NoOpTracer()

    async def start(self) -> None:
        provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: self.service}),
            id_generator=_IdGenerator(),
            sampler=ParentBased(TraceIdRatioBased(self.sample_rate)),
        )
        exporter = self._exporter or OTLPSpanExporter(endpoint=self.endpoint)
        # Batched, in a background thread: a request never waits for the collector.
        provider.add_span_processor(BatchSpanProcessor(exporter))
        self._provider = provider
        self._tracer = provider.get_tracer(INSTRUMENTATION)

    async def stop(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()  # exports what is still queued
            self._provider = None
            self._tracer = trace.NoOpTracer()

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        if self._provider is None:  # not started (an app served without its lifespan)
            await app(scope, receive, send)
            return
        method: str = scope["method"]
        span = self._start(method, incoming_header(scope), trace.SpanKind.SERVER)
        if span.is_recording():
            span.set_attributes({"http.request.method": method, "url.path": scope["path"]})
        active = _SpanTrace(span)
        otel_token = otel_context.attach(trace.set_span_in_context(span))
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
        except BaseException as error:
            span.record_exception(error)
            raise
        finally:
            current_trace.reset(trace_token)
            trace_id_var.reset(log_token)
            otel_context.detach(otel_token)
            if span.is_recording():
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
            span.end()

    def _start(self, name: str, header: str | None, kind: trace.SpanKind) -> trace.Span:
        context, adopted = _parent(header)
        token = _adopted_trace_id.set(adopted)
        try:
            return self._tracer.start_span(name, context=context, kind=kind)
        finally:
            _adopted_trace_id.reset(token)

    def consuming(self, header: str | None, name: str) -> AbstractContextManager[None]:
        return self._consuming(header, name)

    @contextmanager
    def _consuming(self, header: str | None, name: str) -> Iterator[None]:
        span = self._start(name, header, trace.SpanKind.CONSUMER)
        active = _SpanTrace(span)
        trace_token = current_trace.set(active)
        log_token = trace_id_var.set(active.root)
        try:
            with trace.use_span(span, end_on_exit=True):  # records an exception, ends the span
                yield
        finally:
            current_trace.reset(trace_token)
            trace_id_var.reset(log_token)
