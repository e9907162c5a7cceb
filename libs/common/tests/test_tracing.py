"""Tracing end to end, with both backends behind the one seam: two services over real HTTP (the
first calls the second with `ServiceClient` and publishes a fact on the bus, on a real Redis; the
second answers the call and consumes the fact), each exporting to what production runs beside
it — an OTLP/HTTP collector (the ADOT sidecar's receiver, played by a local HTTP server that
decodes the protobuf) or the X-Ray daemon (a UDP socket reading the segments)."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from ticketing_common.app import create_service_app
from ticketing_common.bus import Bus, Consumer, Subscriptions
from ticketing_common.facts import Envelope, PaymentSucceeded
from ticketing_common.http_client import ServiceClient
from ticketing_common.redis import RedisClient
from ticketing_common.resources import resource
from ticketing_common.settings import ServiceSettings
from ticketing_common.tracing import outgoing_trace_header
from ticketing_devkit.collector import OtlpCollector
from ticketing_devkit.processes import serve_app

INCOMING_ROOT = "1-5759e988-bd862e3fe1be46a994272793"


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str  # X-Ray form: 1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy
    id: str
    parent_id: str | None


def xray_id(otel_trace_id: bytes) -> str:
    hex_id = otel_trace_id.hex()
    return f"1-{hex_id[:8]}-{hex_id[8:]}"


def otlp_span(service: str, span: Any) -> Span:
    """What the ADOT collector received (OtlpCollector), in the X-Ray daemon's terms."""
    return Span(
        service=service,
        name=span.name,
        trace_id=xray_id(span.trace_id),
        id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex() or None,
    )


class XRayDaemon:
    """What the X-Ray daemon accepts: one JSON segment per UDP datagram, after a header line."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.3)
        self.spans: list[Span] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def collect(self) -> None:
        with contextlib.suppress(TimeoutError):
            while True:
                header, _, body = self.sock.recv(65536).decode().partition("\n")
                assert json.loads(header) == {"format": "json", "version": 1}
                segment = json.loads(body)
                self.spans.append(
                    Span(
                        service=segment["name"],
                        name=segment.get("annotations", {}).get("operation", segment["name"]),
                        trace_id=segment["trace_id"],
                        id=segment["id"],
                        parent_id=segment.get("parent_id"),
                    )
                )

    def close(self) -> None:
        self.sock.close()


@dataclass
class Backend:
    name: str
    settings: dict[str, Any]
    spans: Callable[[], list[Span]]


@pytest.fixture(params=["opentelemetry", "xray-sdk"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "opentelemetry":
        with OtlpCollector() as collector:
            yield Backend(
                "opentelemetry",
                {"otel_exporter_otlp_endpoint": collector.url},
                lambda: [otlp_span(service, span) for service, span in collector.spans],
            )
            assert set(collector.paths) <= {"/v1/traces"}
    else:
        daemon = XRayDaemon()

        def spans() -> list[Span]:
            daemon.collect()
            return list(daemon.spans)

        yield Backend("xray-sdk", {"xray_daemon_address": daemon.address}, spans)
        daemon.close()


def back_service(settings: ServiceSettings, redis_url: str, seen: list[str | None]) -> FastAPI:
    router = APIRouter()

    @router.get("/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        return {"received": request.headers.get("x-amzn-trace-id")}

    async def on_payment(envelope: Envelope, fact: Any) -> None:
        seen.append(outgoing_trace_header())

    redis = RedisClient(redis_url)
    consumer = Consumer(
        redis, "back", Subscriptions().on_delivery(PaymentSucceeded, on_payment), block_ms=50
    )
    return create_service_app(
        settings, title="back", routers=[router], resources=[redis], background=[consumer.run]
    )


def front_service(settings: ServiceSettings, redis_url: str, back_url: str) -> FastAPI:
    router = APIRouter()

    @router.post("/pay")
    async def pay(request: Request) -> dict[str, Any]:
        answer = await resource(request, ServiceClient).call("back", "GET", f"{back_url}/echo")
        fact = PaymentSucceeded(
            payment_id="p1", booking_id="b1", amount_cents=100, currency="EUR", provider="local"
        )
        envelope = await resource(request, Bus).publish(fact)
        return {"back": answer.body, "fact_trace": envelope.trace.trace_header}

    redis = RedisClient(redis_url)
    return create_service_app(
        settings,
        title="front",
        routers=[router],
        resources=[redis, Bus(redis, "front"), ServiceClient("token")],
    )


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s} s")
        time.sleep(0.05)


@pytest.fixture
def flushed_redis(redis_url: str) -> str:
    import redis as redis_sync

    client = redis_sync.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


def test_one_trace_across_an_http_hop_and_the_bus(backend: Backend, flushed_redis: str) -> None:
    handled: list[str | None] = []
    settings = {**backend.settings, "trace_sample_rate": 1.0}
    with contextlib.ExitStack() as stack:
        back = stack.enter_context(
            serve_app(
                back_service(
                    ServiceSettings(service_name="back", **settings), flushed_redis, handled
                )
            )
        )
        front = stack.enter_context(
            serve_app(
                front_service(
                    ServiceSettings(service_name="front", **settings), flushed_redis, back
                )
            )
        )
        response = httpx.post(f"{front}/pay")
        assert response.status_code == 200
        wait_for(lambda: bool(handled), "the fact was consumed")
    # Leaving the servers ran their lifespans' shutdown: every span is exported by now.
    spans = backend.spans()

    root = response.headers["x-amzn-trace-id"].split(";")[0].removeprefix("Root=")
    assert response.headers["x-amzn-trace-id"] == f"Root={root};Sampled=1"
    [front_span] = [s for s in spans if s.service == "front"]
    assert front_span.trace_id == root
    assert front_span.parent_id is None  # a new trace, started here

    # The call: back saw the trace header naming front's span as its parent...
    received = response.json()["back"]["received"]
    assert received == f"Root={root};Parent={front_span.id};Sampled=1"
    back_spans = {s.name: s for s in spans if s.service == "back"}
    # ...and its own span says the same.
    [back_request] = [s for name, s in back_spans.items() if "payment" not in name]
    assert (back_request.trace_id, back_request.parent_id) == (root, front_span.id)

    # The bus: the envelope carried the same header, the consumer's span joined the trace and
    # whatever its handler calls next would carry it on.
    assert response.json()["fact_trace"] == received
    consumed = back_spans["back payment.succeeded"]
    assert (consumed.trace_id, consumed.parent_id) == (root, front_span.id)
    [handler_header] = handled
    assert handler_header == f"Root={root};Parent={consumed.id};Sampled=1"


def test_an_incoming_trace_and_its_sampling_decision_are_obeyed(backend: Backend) -> None:
    router = APIRouter()

    @router.get("/work")
    async def work() -> dict[str, str | None]:
        return {"outgoing": outgoing_trace_header()}

    # Sampled nowhere unless the caller says so: the decision comes with the header.
    settings = ServiceSettings(service_name="traced", trace_sample_rate=0.0, **backend.settings)
    with serve_app(create_service_app(settings, title="t", routers=[router])) as url:
        sampled = httpx.get(
            f"{url}/work",
            headers={"X-Amzn-Trace-Id": f"Root={INCOMING_ROOT};Parent=53995c3f42cd8ad8;Sampled=1"},
        )
        unsampled = httpx.get(
            f"{url}/work",
            headers={"X-Amzn-Trace-Id": f"Root={INCOMING_ROOT};Parent=53995c3f42cd8ad8;Sampled=0"},
        )
        # What the ALB adds in front of the gateway: a root, no parent, no decision.
        from_alb = httpx.get(f"{url}/work", headers={"X-Amzn-Trace-Id": f"Root={INCOMING_ROOT}"})
        fresh = httpx.get(f"{url}/work")
    [span] = backend.spans()  # only the sampled request was exported
    assert (span.trace_id, span.parent_id) == (INCOMING_ROOT, "53995c3f42cd8ad8")
    assert sampled.headers["x-amzn-trace-id"] == f"Root={INCOMING_ROOT};Sampled=1"
    assert sampled.json()["outgoing"] == f"Root={INCOMING_ROOT};Parent={span.id};Sampled=1"

    # Not sampled: still one trace id, passed on with Sampled=0 so the next hop agrees.
    assert unsampled.headers["x-amzn-trace-id"] == f"Root={INCOMING_ROOT};Sampled=0"
    outgoing = unsampled.json()["outgoing"]
    assert outgoing.startswith(f"Root={INCOMING_ROOT};Parent=")
    assert outgoing.endswith(";Sampled=0")

    # Root only: this service's span starts in that trace (the ALB's access log names it).
    assert from_alb.headers["x-amzn-trace-id"] == f"Root={INCOMING_ROOT};Sampled=0"
    assert from_alb.json()["outgoing"].startswith(f"Root={INCOMING_ROOT};Parent=")

    # No header: a new X-Ray trace id (epoch seconds first), not sampled at rate 0.
    new_root = fresh.headers["x-amzn-trace-id"].split(";")[0].removeprefix("Root=")
    version, epoch, _ = new_root.split("-")
    assert version == "1"
    assert abs(int(epoch, 16) - time.time()) < 60
    assert fresh.headers["x-amzn-trace-id"].endswith(";Sampled=0")


def test_tracing_is_off_unless_configured() -> None:
    router = APIRouter()

    @router.get("/work")
    async def work() -> dict[str, str | None]:
        return {"outgoing": outgoing_trace_header()}

    app = create_service_app(ServiceSettings(service_name="plain"), title="t", routers=[router])
    assert app.state.tracing is None
    with serve_app(app) as url:
        response = httpx.get(f"{url}/work")
    assert "x-amzn-trace-id" not in response.headers
    assert response.json() == {"outgoing": None}


def test_one_backend_at_a_time() -> None:
    with pytest.raises(ValueError, match="not both"):
        ServiceSettings(
            otel_exporter_otlp_endpoint="http://127.0.0.1:4318",
            xray_daemon_address="127.0.0.1:2000",
        )
