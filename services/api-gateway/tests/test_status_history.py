"""The status page's history: the gateway samples its own /status into Redis (one replica per
interval), keeps it bounded, and serves the last 24 hours as bars per component."""

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis
from support import gateway_env, running_gateway, start_upstream
from ticketing_api_gateway.history import SAMPLES_KEY, build_history
from ticketing_devkit.processes import ServiceProcess, free_port
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_devkit.stores import temporary_redis_db

HOUR = 3600


@pytest.fixture(scope="module")
def well() -> Iterator[ServiceProcess]:
    process = start_upstream("well")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def ailing() -> Iterator[ServiceProcess]:
    process = start_upstream("ailing", UPSTREAM_NOT_READY="1")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis database of this module's own: every other test's gateway samples its status
    (once a minute) into the shared one."""
    with temporary_redis_db() as url:
        yield url


@pytest.fixture(scope="module")
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def sampling_env(routes: dict[str, str], jwks_url: str, redis_url: str) -> dict[str, str]:
    return gateway_env(
        routes,
        jwks_url,
        redis_url,
        status_sample_interval_s="1",
        status_history_cache_s="0",
        status_timeout_s="0.5",
    )


@pytest.fixture(scope="module")
def sampled(
    well: ServiceProcess, ailing: ServiceProcess, jwks_url: str, redis_url: str, store: redis.Redis
) -> Iterator[httpx.Client]:
    routes = {
        "/api/v1/events": well.url,
        "/api/v1/payments": ailing.url,
        "/api/v1/bookings": f"http://127.0.0.1:{free_port()}",  # nothing listens
    }
    with (
        running_gateway(sampling_env(routes, jwks_url, redis_url), "gateway-history") as gateway,
        httpx.Client(base_url=gateway.url, timeout=10) as client,
    ):
        deadline = time.monotonic() + 15
        while store.zcard(SAMPLES_KEY) < 3:
            assert time.monotonic() < deadline, gateway.logs()[-2000:]
            time.sleep(0.2)
        yield client


def test_the_history_has_every_component_as_bars_for_the_last_24_hours(
    sampled: httpx.Client,
) -> None:
    response = sampled.get("/status/history", params={"bucket_minutes": 5})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=30"
    history = response.json()
    assert history["bucket_minutes"] == 5
    assert history["sample_interval_s"] == 1
    components = {c["name"]: c for c in history["components"]}
    assert next(iter(components)) == "api-gateway"
    assert {
        "api-gateway",
        "api-gateway/redis",
        "well",
        "well/database",
        "ailing",
        "ailing/database",
        "bookings",  # never answered: named by its route
    } <= set(components)
    for component in components.values():
        assert len(component["buckets"]) == 24 * 12
        assert all(b["status"] == "no_data" for b in component["buckets"][:-2])
    now = components["well"]["buckets"][-1]
    assert now["status"] == "operational"
    assert now["samples"] >= 1
    assert components["well"]["uptime"] == 1.0
    assert components["well/database"]["kind"] == "store"
    assert components["well/database"]["service"] == "well"
    assert components["ailing"]["buckets"][-1]["status"] == "degraded"
    assert components["ailing/database"]["buckets"][-1]["status"] == "outage"
    assert components["bookings"]["buckets"][-1]["status"] == "outage"
    assert components["bookings"]["uptime"] == 0.0
    assert components["api-gateway"]["kind"] == "gateway"


def test_the_default_is_hourly_bars_and_other_sizes_are_refused(sampled: httpx.Client) -> None:
    history = sampled.get("/status/history").json()
    assert history["bucket_minutes"] == 60
    assert len(history["components"][0]["buckets"]) == 24
    assert_problem(sampled.get("/status/history", params={"bucket_minutes": 7}), 422)


def test_replicas_record_one_sample_per_interval(
    well: ServiceProcess, jwks_url: str, redis_url: str, store: redis.Redis, sampled: httpx.Client
) -> None:
    env = sampling_env({"/api/v1/events": well.url}, jwks_url, redis_url)
    with running_gateway(env, "gateway-replica"):
        time.sleep(3.5)
    times = [score for _, score in store.zrange(SAMPLES_KEY, 0, -1, withscores=True)]
    assert len(times) == len(set(times)), "two samples for one interval"
    assert all(later - earlier >= 1 for earlier, later in itertools.pairwise(times))


def test_samples_past_the_retention_are_trimmed_and_the_set_stays_bounded(
    store: redis.Redis, sampled: httpx.Client
) -> None:
    now = time.time()
    old = {
        orjson.dumps({"t": now - 25 * HOUR - n, "c": {}}): now - 25 * HOUR - n for n in range(50)
    }
    # More samples inside the window than it can hold (a clock that jumped, a bug elsewhere).
    future = {orjson.dumps({"t": now + 10 + n, "c": {}}): now + 10 + n for n in range(86_500)}
    store.zadd(SAMPLES_KEY, old | future)
    deadline = time.monotonic() + 10
    while store.zcount(SAMPLES_KEY, "-inf", now - 24 * HOUR) or store.zcard(SAMPLES_KEY) > 86_402:
        assert time.monotonic() < deadline, store.zcard(SAMPLES_KEY)
        time.sleep(0.2)
    store.zremrangebyscore(SAMPLES_KEY, now + 5, "+inf")


def test_without_redis_the_history_is_a_503_problem_and_the_gateway_still_serves(
    well: ServiceProcess, jwks_url: str
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    env = sampling_env({"/api/v1/events": well.url}, jwks_url, dead)
    with running_gateway(env, "gateway-no-redis") as gateway:
        response = httpx.get(f"{gateway.url}/status/history", timeout=10)
        problem = assert_problem(response, 503)
        assert "/status" in problem["detail"]
        assert httpx.get(f"{gateway.url}/status", timeout=10).status_code == 200


def sample(at: float, **states: str) -> dict[str, Any]:
    return {"t": at, "c": {name: ["service", None, state] for name, state in states.items()}}


def test_a_bucket_shows_the_worst_state_sampled_in_it() -> None:
    now = 100 * HOUR + 30 * 60  # half past an hour
    history = build_history(
        [
            sample(now - 120, auth="operational", events="operational"),
            sample(now - 60, auth="outage", events="degraded"),
            sample(now, auth="operational", events="operational"),
            sample(now - 2 * HOUR, auth="operational"),
            sample(now - 30 * HOUR, auth="outage"),  # beyond the window
        ],
        now=now,
        retention_s=24 * HOUR,
        bucket_s=HOUR,
        sample_interval_s=60,
    )
    auth, events = history.components
    assert (auth.name, events.name) == ("auth", "events")
    assert [b.status for b in auth.buckets[-3:]] == ["operational", "no_data", "outage"]
    assert (auth.buckets[-1].samples, auth.buckets[-1].outage) == (3, 1)
    assert events.buckets[-1].status == "degraded"
    assert auth.uptime == 0.75
    assert events.buckets[-3].status == "no_data"  # events was not there two hours ago
    assert history.since.timestamp() == now - 30 * 60 - 23 * HOUR
