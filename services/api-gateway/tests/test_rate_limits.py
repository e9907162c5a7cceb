"""Rate limits over real HTTP: 429 with its headers, per address vs per user, route groups, two
gateway replicas sharing one Redis bucket, and a Redis outage (fail open)."""

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from support import PREFIXES, access_lines, gateway_env, hits, running_gateway
from ticketing_devkit.processes import ServiceProcess, free_port
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_devkit.stores import redis_server_command
from ticketing_devkit.tokens import FakeIssuer

# Slow refill, so a test's burst is what counts. Leases: anonymous L = 2, user L = 5.
ANONYMOUS = {"rate": 0.5, "burst": 10}
USER = {"rate": 0.5, "burst": 20}
LIMITS = {
    "default": {"anonymous": ANONYMOUS, "user": USER},
    "auth": {"prefixes": ["/api/v1/auth"], "anonymous": {"rate": 0.5, "burst": 4}, "user": USER},
}


def limited_env(routes: dict[str, str], jwks_url: str, redis_url: str) -> dict[str, str]:
    return gateway_env(
        routes,
        jwks_url,
        redis_url,
        rate_limits=LIMITS,
        rate_limit_lease_fraction="0.25",
        trusted_proxy_hops="1",  # the tests play the load balancer: X-Forwarded-For is the client
    )


@pytest.fixture(scope="module")
def replicas(
    upstream: ServiceProcess, jwks_url: str, redis_url: str
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    env = limited_env(dict.fromkeys(PREFIXES, upstream.url), jwks_url, redis_url)
    with running_gateway(env, "gateway-a") as first, running_gateway(env, "gateway-b") as second:
        yield first, second


def client_ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def get(gateway: ServiceProcess, path: str, ip: str, token: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": ip}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(f"{gateway.url}{path}", headers=headers, timeout=10)


def test_over_the_limit_is_429_with_retry_after_and_ratelimit_headers(
    replicas: tuple[ServiceProcess, ServiceProcess], upstream: ServiceProcess
) -> None:
    gateway, _ = replicas
    ip = client_ip()
    before = hits(upstream)
    admitted = [get(gateway, "/api/v1/events", ip) for _ in range(10)]
    assert [r.status_code for r in admitted] == [200] * 10
    assert {r.headers["ratelimit-limit"] for r in admitted} == {"10"}
    remaining = [int(r.headers["ratelimit-remaining"]) for r in admitted]
    assert remaining == sorted(remaining, reverse=True)
    assert remaining[-1] == 0

    refused = get(gateway, "/api/v1/events", ip)
    body = assert_problem(refused, 429)
    assert body["type"].endswith("/rate-limited")
    assert refused.headers["retry-after"] == "2"  # one token at 0.5/s
    assert refused.headers["ratelimit-limit"] == "10"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["ratelimit-reset"]) <= 20
    assert hits(upstream) == before + 10


def test_addresses_have_separate_buckets(replicas: tuple[ServiceProcess, ServiceProcess]) -> None:
    gateway, _ = replicas
    noisy, quiet = client_ip(), client_ip()
    for _ in range(10):
        get(gateway, "/api/v1/events", noisy)
    assert get(gateway, "/api/v1/events", noisy).status_code == 429
    assert get(gateway, "/api/v1/events", quiet).status_code == 200


def test_users_are_limited_per_user_not_per_address(
    replicas: tuple[ServiceProcess, ServiceProcess], issuer: FakeIssuer
) -> None:
    gateway, _ = replicas
    busy = issuer.token()
    ips = [client_ip() for _ in range(20)]
    statuses = [get(gateway, "/api/v1/bookings", ip, busy).status_code for ip in ips]
    assert statuses == [200] * 20  # 20 addresses, one user: one bucket of 20
    again = get(gateway, "/api/v1/bookings", client_ip(), busy)
    assert_problem(again, 429)
    assert again.headers["ratelimit-limit"] == "20"
    # The same address serves another user, and anonymous requests, from other buckets.
    assert get(gateway, "/api/v1/bookings", ips[0], issuer.token()).status_code == 200
    assert get(gateway, "/api/v1/events", ips[0]).status_code == 200


def test_route_groups_have_their_own_limits(
    replicas: tuple[ServiceProcess, ServiceProcess],
) -> None:
    gateway, _ = replicas
    ip = client_ip()
    auth = [get(gateway, "/api/v1/auth/jwks", ip).status_code for _ in range(5)]
    assert auth == [200, 200, 200, 200, 429]
    assert get(gateway, "/api/v1/auth/jwks", ip).headers["ratelimit-limit"] == "4"
    assert get(gateway, "/api/v1/events", ip).status_code == 200  # the default group's bucket


def test_a_forged_token_spends_the_addresses_tokens(
    replicas: tuple[ServiceProcess, ServiceProcess],
) -> None:
    gateway, _ = replicas
    ip = client_ip()
    statuses = [
        get(gateway, "/api/v1/bookings", ip, "forged.token.x").status_code for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]


def test_two_replicas_share_one_bucket_sequentially(
    replicas: tuple[ServiceProcess, ServiceProcess], issuer: FakeIssuer
) -> None:
    token = issuer.token()
    ip = client_ip()
    started = time.monotonic()
    statuses = [get(replicas[i % 2], "/api/v1/bookings", ip, token).status_code for i in range(40)]
    elapsed = time.monotonic() - started
    admitted = statuses.count(200)
    assert statuses.count(429) == 40 - admitted
    # Never more than the bucket (20) plus its refill (0.5/s); never fewer than the bucket less
    # what each replica may hold in a lease (1.25 x L = 6 with L = 5).
    assert admitted <= 20 + 0.5 * elapsed + 1
    assert admitted >= 20 - 2 * 6


def test_two_replicas_share_one_bucket_under_concurrency(
    replicas: tuple[ServiceProcess, ServiceProcess], issuer: FakeIssuer, upstream: ServiceProcess
) -> None:
    token = issuer.token()
    before = hits(upstream)
    started = time.monotonic()

    def call(index: int) -> int:
        return get(replicas[index % 2], "/api/v1/bookings", client_ip(), token).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(call, range(80)))
    elapsed = time.monotonic() - started
    admitted = statuses.count(200)
    assert set(statuses) == {200, 429}
    assert admitted <= 20 + 0.5 * elapsed + 1
    assert admitted >= 20 - 2 * 6
    assert hits(upstream) == before + admitted


class PrivateRedis:
    """A redis-server of our own on a free port, so a test can take it down."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert shutil.which("redis-server"), "redis-server is needed for the outage test"
        self.process = subprocess.Popen(redis_server_command(self.port), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def test_a_redis_outage_lets_traffic_through_and_is_logged(
    upstream: ServiceProcess, jwks_url: str
) -> None:
    store = PrivateRedis()
    store.start()
    env = limited_env(dict.fromkeys(PREFIXES, upstream.url), jwks_url, store.url)
    env["RATE_LIMIT_RETRY_S"] = "0.2"
    try:
        with running_gateway(env, "gateway-outage") as gateway:
            ip = client_ip()
            statuses = [get(gateway, "/api/v1/auth/jwks", ip).status_code for _ in range(5)]
            assert statuses == [200, 200, 200, 200, 429]

            store.stop()
            fresh = client_ip()
            during = [get(gateway, "/api/v1/auth/jwks", fresh).status_code for _ in range(8)]
            assert during == [200] * 8  # over the limit of 4, but the limiter cannot know
            assert httpx.get(f"{gateway.url}/ready").status_code == 200
            status = httpx.get(f"{gateway.url}/status").json()
            assert status["rate_limiter"] == {"redis": "unreachable", "failing_open": True}
            unchecked = [
                line for line in access_lines(gateway) if line.get("rate_limit") == "unchecked"
            ]
            assert len(unchecked) >= 8
            assert "Redis unreachable; admitting requests without limits" in gateway.logs()

            store.start()  # same port, empty: limits apply again once the retry interval passes
            time.sleep(0.3)
            again = client_ip()
            deadline = time.monotonic() + 5
            while get(gateway, "/api/v1/auth/jwks", again).headers.get("ratelimit-limit") != "4":
                assert time.monotonic() < deadline, "the limiter never used Redis again"
                time.sleep(0.1)
            statuses = [get(gateway, "/api/v1/auth/jwks", again).status_code for _ in range(4)]
            assert statuses.count(429) >= 1
            assert "Redis answers again" in gateway.logs()
    finally:
        store.stop()


def test_a_crowd_behind_one_address_gets_through_the_default_limits(
    upstream: ServiceProcess, jwks_url: str, redis_url: str
) -> None:
    """A thousand customers behind one NAT sign in within the minute an on-sale opens, and each
    opens the event page: with the gateway's default limits, none is refused."""
    env = gateway_env(dict.fromkeys(PREFIXES, upstream.url), jwks_url, redis_url)
    del env["RATE_LIMITS"]  # the defaults
    env["TRUSTED_PROXY_HOPS"] = "1"
    address = {"X-Forwarded-For": client_ip()}
    with (
        running_gateway(env, "gateway-default-limits") as gateway,
        httpx.Client(base_url=gateway.url, timeout=30, headers=address) as client,
    ):

        def customer(n: int) -> list[int]:
            login = client.post("/api/v1/auth/login", json={"email": f"c{n}@x", "password": "p"})
            page = client.get("/api/v1/events/evt-1")
            return [login.status_code, page.status_code]

        with ThreadPoolExecutor(8) as pool:
            statuses = [status for pair in pool.map(customer, range(1000)) for status in pair]
    assert 429 not in statuses
    assert len(statuses) == 2000
