"""The proxy path over real HTTP: a gateway process in front of real upstream processes."""

import hashlib
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from support import access_lines, echoed_headers, hits
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.pytest_plugin import assert_problem


def test_paths_and_queries_pass_through_unchanged(client: httpx.Client, issuer) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/search/events?q=caf%C3%A9&city=S%C3%A3o+Paulo&limit=5&q=2")
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert echoed["raw_path"] == "/api/v1/search/events"
    assert echoed["query"] == "q=caf%C3%A9&city=S%C3%A3o+Paulo&limit=5&q=2"
    encoded = client.get("/api/v1/events/caf%C3%A9%20x").json()
    assert encoded["raw_path"] == "/api/v1/events/caf%C3%A9%20x"
    slash = client.get(
        "/api/v1/bookings/a%2Fb", headers={"Authorization": f"Bearer {issuer.token()}"}
    ).json()
    assert slash["raw_path"] == "/api/v1/bookings/a%2Fb"


def test_each_prefix_reaches_its_upstream_and_the_longest_prefix_wins(
    client: httpx.Client, user: dict[str, str]
) -> None:
    for path, upstream in [
        ("/api/v1/events/e-1", "main"),
        ("/api/v1/events/featured", "featured"),
        ("/api/v1/events/featured/e-2", "featured"),
        ("/api/v1/events/featuredx", "main"),
        ("/api/v1/notifications", "main"),
    ]:
        response = client.get(path, headers=user)
        assert response.json()["upstream"] == upstream, (path, response.text)
        assert response.json()["path"] == path


def test_methods_and_bodies_reach_the_upstream(client: httpx.Client, issuer) -> None:  # type: ignore[no-untyped-def]
    body = b'{"seat_ids": ["A-1-1", "A-1-2"]}'
    response = client.post(
        "/api/v1/inventory/events/e-1/holds",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {issuer.token()}"},
    )
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert echoed_headers(response)["content-type"] == "application/json"


def test_unrouted_and_internal_paths_are_404_problems_that_never_reach_a_service(
    client: httpx.Client, upstream: ServiceProcess
) -> None:
    before = hits(upstream)
    for path in ("/internal/holds/h-1", "/internal/users/u-1", "/api/v2/events", "/nope"):
        assert_problem(client.get(path), 404)
        assert_problem(client.post(path, json={}), 404)
    assert hits(upstream) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/../../internal/holds/h-1",
        "/api/v1/events/%2e%2e/%2e%2e/internal/holds/h-1",
        "/api/v1/events/..%2F..%2Finternal/holds/h-1",
        "/api/v1/events/./e-1",
    ],
)
def test_dot_segments_cannot_smuggle_a_request_to_internal(
    gateway: ServiceProcess, upstream: ServiceProcess, path: str
) -> None:
    before = hits(upstream)
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("GET", path)  # sent as written: http.client does not normalise
    response = connection.getresponse()
    assert response.status == 404
    assert response.getheader("content-type") == "application/problem+json"
    connection.close()
    assert hits(upstream) == before


def test_hop_by_hop_request_headers_are_stripped_and_forwarding_headers_set(
    gateway: ServiceProcess, issuer
) -> None:  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.putrequest("GET", "/api/v1/bookings/b-1", skip_host=True)
    for name, value in [
        ("Host", "tickets.example"),
        ("Connection", "keep-alive, X-Hop-Secret"),
        ("X-Hop-Secret", "must not pass"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Trailer", "X-Checksum"),
        ("Proxy-Authorization", "Basic c2VjcmV0"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Forwarded-For", "6.6.6.6"),
        ("X-Forwarded-Proto", "ftp"),
        ("X-Custom", "kept"),
        ("Authorization", f"Bearer {issuer.token()}"),
    ]:
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    echoed = json.loads(response.read())
    connection.close()
    assert response.status == 200, echoed
    received = dict(echoed["headers"])
    for hop in ("connection", "x-hop-secret", "keep-alive", "te", "trailer"):
        assert hop not in received, hop
    assert "proxy-authorization" not in received
    assert "proxy-connection" not in received
    assert received["x-custom"] == "kept"
    assert received["authorization"].startswith("Bearer ")  # services verify too
    # No proxy is trusted in front of this gateway: the client's claims are kept but the real
    # peer is appended, and the scheme is what the gateway saw.
    assert received["x-forwarded-for"] == "6.6.6.6, 127.0.0.1"
    assert received["x-forwarded-proto"] == "http"
    assert received["x-forwarded-host"] == "tickets.example"
    assert received["host"] != "tickets.example"


def test_hop_by_hop_response_headers_are_stripped(client: httpx.Client) -> None:
    response = client.get("/api/v1/events/hop-headers")
    assert response.status_code == 200
    for hop in ("keep-alive", "proxy-authenticate", "trailer", "x-upstream-private"):
        assert hop not in response.headers, hop
    assert response.headers["x-upstream-custom"] == "kept"
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) <= 1


def test_request_id_is_generated_propagated_and_returned(client: httpx.Client) -> None:
    response = client.get("/api/v1/events/e-1")
    generated = response.headers["x-request-id"]
    assert len(generated) == 32
    assert echoed_headers(response)["x-request-id"] == generated
    assert response.headers.get_list("x-request-id") == [generated]

    given = client.get("/api/v1/events/e-1", headers={"X-Request-ID": "req-abc.123"})
    assert given.headers["x-request-id"] == "req-abc.123"
    assert echoed_headers(given)["x-request-id"] == "req-abc.123"

    unsafe = client.get("/api/v1/events/e-1", headers={"X-Request-ID": "a b<script>"})
    assert unsafe.headers["x-request-id"] != "a b<script>"
    assert echoed_headers(unsafe)["x-request-id"] == unsafe.headers["x-request-id"]


def test_the_trace_header_is_propagated(client: httpx.Client) -> None:
    trace = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"
    response = client.get("/api/v1/events/e-1", headers={"X-Amzn-Trace-Id": trace})
    assert echoed_headers(response)["x-amzn-trace-id"] == trace


def test_one_json_access_line_per_request(client: httpx.Client, gateway: ServiceProcess) -> None:
    marker = f"/api/v1/events/log-{uuid.uuid4().hex}"
    response = client.get(marker, headers={"X-Amzn-Trace-Id": "Root=1-5e1b4151-5ac6c58f"})
    deadline = time.monotonic() + 5
    lines: list[dict[str, object]] = []
    while not lines and time.monotonic() < deadline:
        lines = [line for line in access_lines(gateway) if line.get("path") == marker]
        time.sleep(0.05)
    assert len(lines) == 1
    line = lines[0]
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["trace_id"] == "1-5e1b4151-5ac6c58f"
    assert str(line["upstream"]).startswith("http://127.0.0.1:")
    assert isinstance(line["duration_ms"], float)
    assert isinstance(line["upstream_ms"], float)
    assert line["service"] == "api-gateway"


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(
    client: httpx.Client, upstream: ServiceProcess
) -> None:
    before = hits(upstream)
    response = client.post(
        "/api/v1/auth/register",
        content=b"x" * 70_000,
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413)
    assert hits(upstream) == before


def test_a_streamed_body_over_the_limit_is_cut_off(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 10_000  # 100 kB, no Content-Length: chunked

    response = client.post("/api/v1/auth/register", content=chunks())
    assert_problem(response, 413)


def test_a_streamed_body_within_the_limit_arrives_whole(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for index in range(6):
            yield bytes([65 + index]) * 10_000

    response = client.post("/api/v1/auth/register", content=chunks())
    assert response.status_code == 200, response.text
    expected = b"".join(bytes([65 + index]) * 10_000 for index in range(6))
    assert response.json()["body_sha256"] == hashlib.sha256(expected).hexdigest()


def test_request_bodies_are_streamed_to_the_upstream(
    client: httpx.Client, upstream: ServiceProcess, user: dict[str, str]
) -> None:
    """The first chunk reaches the upstream before the client has sent the second: the gateway
    forwards as it receives instead of buffering the whole body."""
    token = uuid.uuid4().hex
    seen_early: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b"a" * 20_000
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            received = httpx.get(f"{upstream.url}/_uploads/{token}").json()["received"]
            if received:
                seen_early.append(received)
                break
            time.sleep(0.02)
        yield b"b" * 20_000

    response = client.post(f"/api/v1/auth/upload/{token}", content=chunks(), headers=user)
    assert response.json() == {"received": 40_000}
    assert seen_early, "the upstream saw nothing before the client sent its last chunk"


def test_responses_are_streamed_to_the_client(
    client: httpx.Client, upstream: ServiceProcess, user: dict[str, str]
) -> None:
    """The first chunk reaches the client while the upstream is still holding the rest back."""
    token = uuid.uuid4().hex
    with client.stream("GET", f"/api/v1/events/stream/{token}", headers=user) as response:
        parts = response.iter_raw()
        assert next(parts) == b"first;"  # arrives before the release below
        httpx.get(f"{upstream.url}/_release/{token}")
        assert b"".join(parts) == b"second"


def test_large_responses_arrive_whole(client: httpx.Client) -> None:
    response = client.get("/api/v1/search/events?size=1048576")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1048576"
    assert response.content == b"x" * 1_048_576


def test_upstream_errors_pass_through_unchanged(client: httpx.Client) -> None:
    response = client.get("/api/v1/events/e-1?status=500")
    assert response.status_code == 500
    assert response.json()["upstream"] == "main"
    assert client.get("/api/v1/events/e-1?status=404").status_code == 404


def test_head_requests(client: httpx.Client) -> None:
    response = client.head("/api/v1/events/e-1")
    assert response.status_code == 200
    assert response.content == b""


def test_health_ready_and_docs_are_the_gateways_own(client: httpx.Client) -> None:
    assert client.get("/health").json()["service"] == "api-gateway"
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"tokens", "upstreams", "rate_limiter"}
    assert client.get("/docs").status_code == 200
    assert "/status" in client.get("/openapi.json").json()["paths"]


def test_cors_preflight_is_answered_at_the_edge(
    client: httpx.Client, upstream: ServiceProcess
) -> None:
    before = hits(upstream)
    preflight = client.options(
        "/api/v1/bookings",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    refused = client.options(
        "/api/v1/bookings",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert hits(upstream) == before

    simple = client.get("/api/v1/events", headers={"Origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "ratelimit-remaining" in simple.headers["access-control-expose-headers"].lower()
    other = client.get("/api/v1/events", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_concurrent_requests_are_not_mixed_up(
    client: httpx.Client, gateway: ServiceProcess
) -> None:
    results: dict[str, str] = {}

    def call(index: int) -> None:
        with httpx.Client(base_url=gateway.url, timeout=10) as own:
            response = own.get(f"/api/v1/events/c-{index}", headers={"X-Request-ID": f"r-{index}"})
            results[f"r-{index}"] = response.json()["path"]

    threads = [threading.Thread(target=call, args=(index,)) for index in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {f"r-{index}": f"/api/v1/events/c-{index}" for index in range(30)}
