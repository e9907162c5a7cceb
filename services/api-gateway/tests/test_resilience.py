"""Upstream failure modes against real processes: killed, frozen, slow, answering errors; the
circuit breaker; and the status page."""

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support import gateway_env, hits, running_gateway, start_upstream
from ticketing_api_gateway.status import verdict
from ticketing_api_gateway.upstreams import Readiness
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.pytest_plugin import assert_problem

COOLDOWN_S = 1.0


class Blackhole:
    """A TCP listener that accepts connections and never answers: an upstream that hangs. It
    counts the requests proxied to it, not the gateway's attempts at its OpenAPI document (made
    at start and every few seconds while it has none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self._held.append(conn)
            threading.Thread(target=self._count_request, args=(conn,), daemon=True).start()

    def _count_request(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            request_line = conn.recv(64)
        except OSError:
            return
        if not request_line.startswith(b"GET /openapi.json"):
            with self._lock:
                self.accepted += 1

    def count(self) -> int:
        time.sleep(0.1)  # let the accept thread catch up
        with self._lock:
            return self.accepted

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture(scope="module")
def doomed() -> Iterator[ServiceProcess]:
    process = start_upstream("doomed")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def slow() -> Iterator[ServiceProcess]:
    process = start_upstream("slow", UPSTREAM_DEGRADED="1")
    yield process
    if process.process is not None:
        os.kill(process.process.pid, signal.SIGCONT)
    process.stop()


@pytest.fixture(scope="module")
def sick() -> Iterator[ServiceProcess]:
    process = start_upstream("sick", UPSTREAM_NOT_READY="1")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.close()


@pytest.fixture(scope="module")
def edge(
    doomed: ServiceProcess,
    slow: ServiceProcess,
    sick: ServiceProcess,
    blackhole: Blackhole,
    jwks_url: str,
    redis_url: str,
) -> Iterator[httpx.Client]:
    quick = {"connect_s": 0.5, "total_s": 0.5}
    env = gateway_env(
        {
            "/api/v1/events": doomed.url,
            "/api/v1/search": slow.url,
            "/api/v1/venues": slow.url,
            "/api/v1/payments": sick.url,
            "/api/v1/bookings": blackhole.url,
        },
        jwks_url,
        redis_url,
        upstream_timeout_s="5",
        upstream_timeouts={"/api/v1/search": quick, "/api/v1/bookings": quick},
        breaker_failure_threshold="3",
        breaker_cooldown_s=str(COOLDOWN_S),
        status_timeout_s="0.5",
    )
    with (
        running_gateway(env, "gateway-edge") as gateway,
        httpx.Client(base_url=gateway.url, timeout=10) as client,
    ):
        yield client


def test_status_reports_every_upstream_with_latency_and_a_verdict(edge: httpx.Client) -> None:
    response = edge.get("/status")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "degraded"
    by_service = {item["service"]: item for item in report["upstreams"]}
    assert by_service["doomed"]["status"] == "ready"
    assert by_service["doomed"]["routes"] == ["/api/v1/events"]
    assert by_service["slow"]["routes"] == ["/api/v1/search", "/api/v1/venues"]
    assert by_service["slow"]["status"] == "degraded"  # it serves, rebuilding
    assert by_service["slow"]["checks"]["state"]["status"] == "degraded"
    assert by_service["sick"]["status"] == "not-ready"
    assert by_service["sick"]["http_status"] == 503
    hung = by_service[None]  # the blackhole never says its name
    assert hung["status"] == "unreachable"
    assert hung["routes"] == ["/api/v1/bookings"]
    assert all(item["latency_ms"] >= 0 for item in report["upstreams"])
    assert all(item["circuit"] == "closed" for item in report["upstreams"])
    assert report["rate_limiter"] == {"redis": "ok", "failing_open": False}


def test_status_is_operational_when_every_service_is_ready(client: httpx.Client) -> None:
    assert client.get("/status").json()["status"] == "operational"


def test_the_verdict() -> None:
    def item(status: str) -> Readiness:
        return Readiness("http://x", status, 1.0, None, None, None)  # type: ignore[arg-type]

    assert verdict([item("ready"), item("ready")]) == "operational"
    assert verdict([item("ready"), item("unreachable")]) == "degraded"
    assert verdict([item("not-ready"), item("unreachable")]) == "outage"
    assert verdict([item("ready"), item("degraded")]) == "degraded"
    assert verdict([item("degraded"), item("unreachable")]) == "degraded"


def test_a_hanging_upstream_is_504_then_the_circuit_opens_and_it_is_left_alone(
    edge: httpx.Client, blackhole: Blackhole, user: dict[str, str]
) -> None:
    start = blackhole.count()
    for _ in range(3):
        assert_problem(edge.get("/api/v1/bookings", headers=user), 504)
    assert blackhole.count() == start + 3

    for _ in range(5):  # open: answered at once, no connection made
        refused = edge.get("/api/v1/bookings", headers=user)
        body = assert_problem(refused, 503)
        assert body["type"].endswith("/upstream-unavailable")
        assert refused.headers["retry-after"] == "1"
    assert blackhole.count() == start + 3

    # After the cool-down exactly one probe goes through; the others keep getting 503.
    time.sleep(COOLDOWN_S + 0.1)
    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(
            pool.map(lambda _: edge.get("/api/v1/bookings", headers=user).status_code, range(6))
        )
    assert statuses == [503, 503, 503, 503, 503, 504]
    assert blackhole.count() == start + 4
    assert_problem(edge.get("/api/v1/bookings", headers=user), 503)  # the probe failed: open


def test_a_killed_upstream_is_502_then_503_and_recovers_after_the_cooldown(
    edge: httpx.Client, doomed: ServiceProcess
) -> None:
    assert edge.get("/api/v1/events/e-1").status_code == 200
    doomed.kill()
    for _ in range(3):
        body = assert_problem(edge.get("/api/v1/events/e-1"), 502)
        assert body["type"].endswith("/upstream-unreachable")
    assert_problem(edge.get("/api/v1/events/e-1"), 503)

    revived = start_upstream("doomed", port=doomed.port)
    try:
        time.sleep(COOLDOWN_S + 0.1)
        assert edge.get("/api/v1/events/e-1").status_code == 200  # the probe: closed again
        assert [edge.get("/api/v1/events/e-1").status_code for _ in range(5)] == [200] * 5
        assert hits(revived) == 6
    finally:
        revived.stop()


def test_a_slow_answer_is_504_on_a_route_with_a_short_timeout_only(
    edge: httpx.Client, slow: ServiceProcess
) -> None:
    body = assert_problem(edge.get("/api/v1/search/events?sleep=1"), 504)
    assert body["type"].endswith("/upstream-timeout")
    # Same upstream, a route on the default timeout (5 s): the same delay is fine.
    assert edge.get("/api/v1/venues/v-1?sleep=1").status_code == 200


def test_a_frozen_upstream_times_out_opens_the_circuit_and_recovers(
    edge: httpx.Client, slow: ServiceProcess
) -> None:
    assert slow.process is not None
    assert edge.get("/api/v1/search/events").status_code == 200
    os.kill(slow.process.pid, signal.SIGSTOP)
    try:
        for _ in range(3):
            assert_problem(edge.get("/api/v1/search/events"), 504)
        assert_problem(edge.get("/api/v1/search/events"), 503)
        assert_problem(edge.get("/api/v1/venues/v-1"), 503)  # the breaker is per upstream
        report = edge.get("/status").json()
        frozen = next(u for u in report["upstreams"] if u["url"] == slow.url)
        assert frozen["status"] == "unreachable"
        assert frozen["circuit"] == "open"
    finally:
        os.kill(slow.process.pid, signal.SIGCONT)
    time.sleep(COOLDOWN_S + 0.1)
    assert edge.get("/api/v1/search/events").status_code == 200
    assert edge.get("/api/v1/venues/v-1").status_code == 200


def test_a_slow_client_upload_is_408_and_does_not_count_against_the_service(
    edge: httpx.Client, slow: ServiceProcess, user: dict[str, str]
) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(4):
            yield b"z" * 100
            time.sleep(0.3)  # the route's whole exchange may take 0.5 s

    for _ in range(4):  # more than the breaker's threshold of 3
        response = edge.post("/api/v1/search/events", content=trickle(), headers=user)
        assert_problem(response, 408)
    assert edge.get("/api/v1/search/events").status_code == 200  # the circuit stayed closed


def test_error_answers_pass_through_and_do_not_open_the_circuit(
    edge: httpx.Client, sick: ServiceProcess
) -> None:
    for _ in range(5):
        response = edge.post("/api/v1/payments/webhooks/stripe?status=503", content=b"{}")
        assert response.status_code == 503
        assert response.json()["upstream"] == "sick"  # the service's own answer, untouched
    assert edge.post("/api/v1/payments/webhooks/stripe", content=b"{}").status_code == 200
