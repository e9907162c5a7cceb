"""The gateway traced with OpenTelemetry, as the task definition runs it: its span is the parent
the proxied request names, and the span reaches the collector (a local OTLP/HTTP receiver)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from support import PREFIXES, echoed_headers, gateway_env, running_gateway
from ticketing_devkit.collector import OtlpCollector
from ticketing_devkit.processes import ServiceProcess

ALB_ROOT = "1-67891233-abcdef012345678912345678"


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as collector:
        yield collector


def test_the_proxied_request_names_the_gateways_span_as_its_parent(
    upstream: ServiceProcess, jwks_url: str, redis_url: str, collector: OtlpCollector
) -> None:
    env = gateway_env(dict.fromkeys(PREFIXES, upstream.url), jwks_url, redis_url)
    env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "TRACE_SAMPLE_RATE": "1"})
    with running_gateway(env, name="traced-gateway") as gateway:
        # What the ALB adds: a root, no parent.
        response = httpx.get(
            f"{gateway.url}/api/v1/events/e-1", headers={"X-Amzn-Trace-Id": f"Root={ALB_ROOT}"}
        )
    # Stopping the gateway ran its shutdown, which exports what was still queued.
    assert response.status_code == 200
    assert response.headers["x-amzn-trace-id"] == f"Root={ALB_ROOT};Sampled=1"
    forwarded = echoed_headers(response)["x-amzn-trace-id"]
    deadline = time.monotonic() + 5
    while not collector.spans and time.monotonic() < deadline:
        time.sleep(0.05)
    [(service, span)] = [
        (s, span)
        for s, span in collector.spans
        if any(a.value.string_value == "/api/v1/events/e-1" for a in span.attributes)
    ]  # (the readiness probes that waited for the gateway to start are traced too)
    assert service == "api-gateway"
    hex_id = span.trace_id.hex()
    assert f"1-{hex_id[:8]}-{hex_id[8:]}" == ALB_ROOT  # the ALB's trace, kept
    assert forwarded == f"Root={ALB_ROOT};Parent={span.span_id.hex()};Sampled=1"
