"""The leased token bucket against the real Redis, in-process (several limiters = several
gateway replicas sharing one Redis)."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from ticketing_api_gateway.ratelimit import RateLimiter
from ticketing_api_gateway.settings import Limit
from ticketing_common.redis import RedisClient
from ticketing_devkit.processes import free_port


def limiter(redis_url: str, **overrides: Any) -> RateLimiter:
    options: dict[str, Any] = {
        "lease_fraction": 0.1,
        "max_lease": 100,
        "lease_ttl_s": 1.0,
        "redis_timeout_s": 0.5,
        "retry_s": 0.3,
    } | overrides
    return RateLimiter(RedisClient(redis_url), **options)


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[Callable[..., RateLimiter]]:
    started: list[RateLimiter] = []

    def make(**overrides: Any) -> RateLimiter:
        subject = limiter(redis_url, **overrides)
        started.append(subject)
        return subject

    yield make
    for subject in started:
        await subject.stop()


class CountingScript:
    """Wraps the limiter's script call to count Redis round trips."""

    def __init__(self, subject: RateLimiter) -> None:
        self.inner = subject._script
        self.calls = 0
        subject._script = self  # type: ignore[assignment]

    async def __call__(self, **kwargs: Any) -> Any:
        self.calls += 1
        assert self.inner is not None
        return await self.inner(**kwargs)


def key() -> str:
    return f"test:ip:{uuid.uuid4().hex}"


async def test_one_replica_admits_exactly_the_burst(replicas: Callable[..., RateLimiter]) -> None:
    subject = replicas()
    await subject.start()
    limit = Limit(rate=0.01, burst=25)  # lease of 2 tokens
    bucket = key()
    decisions = await asyncio.gather(*(subject.admit(bucket, limit) for _ in range(60)))
    assert sum(d.admitted for d in decisions) == 25
    refused = [d for d in decisions if not d.admitted]
    assert all(d.retry_after_s == 100 for d in refused)  # 1 token at 0.01/s
    assert all(d.limit == 25 and d.remaining == 0 for d in refused)


async def test_leases_batch_the_redis_calls(replicas: Callable[..., RateLimiter]) -> None:
    subject = replicas()
    await subject.start()
    calls = CountingScript(subject)
    limit = Limit(rate=1000, burst=1000)  # lease of 100
    bucket = key()
    for _ in range(10):
        decisions = await asyncio.gather(*(subject.admit(bucket, limit) for _ in range(50)))
        assert all(d.admitted for d in decisions)
    # 500 admissions; tokens come 100 at a time, plus at most one prefetch in flight.
    assert calls.calls <= 7


async def test_many_new_keys_share_one_script_call(replicas: Callable[..., RateLimiter]) -> None:
    subject = replicas()
    await subject.start()
    calls = CountingScript(subject)
    limit = Limit(rate=10, burst=20)
    decisions = await asyncio.gather(*(subject.admit(key(), limit) for _ in range(200)))
    assert all(d.admitted for d in decisions)
    assert calls.calls == 1


async def test_a_refusal_is_answered_locally_until_a_token_is_due(
    replicas: Callable[..., RateLimiter],
) -> None:
    subject = replicas()
    await subject.start()
    limit = Limit(rate=0.5, burst=3)
    bucket = key()
    assert all([(await subject.admit(bucket, limit)).admitted for _ in range(3)])
    calls = CountingScript(subject)
    refusals = [await subject.admit(bucket, limit) for _ in range(50)]
    assert not any(d.admitted for d in refusals)
    assert refusals[0].retry_after_s == 2
    assert calls.calls <= 1


async def test_tokens_come_back_at_the_configured_rate(
    replicas: Callable[..., RateLimiter],
) -> None:
    subject = replicas()
    await subject.start()
    limit = Limit(rate=10, burst=2)
    bucket = key()
    assert [(await subject.admit(bucket, limit)).admitted for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.25)  # 2.5 tokens' worth, capped at the burst of 2
    assert [(await subject.admit(bucket, limit)).admitted for _ in range(3)] == [True, True, False]


async def test_two_replicas_never_admit_more_than_the_bucket_allows(
    replicas: Callable[..., RateLimiter],
) -> None:
    """Over-admission bound: 0. Under-admission bound: leased tokens stranded in the other
    replica, at most 1.25 L per replica."""
    first, second = replicas(), replicas()
    await first.start()
    await second.start()
    limit = Limit(rate=2, burst=40)  # lease L = 4
    bucket = key()
    started = time.monotonic()

    async def burst(subject: RateLimiter) -> int:
        decisions = await asyncio.gather(*(subject.admit(bucket, limit) for _ in range(60)))
        return sum(d.admitted for d in decisions)

    admitted = 0
    for _ in range(3):  # interleaved waves on both replicas
        admitted += sum(await asyncio.gather(burst(first), burst(second)))
    elapsed = time.monotonic() - started
    assert admitted <= 40 + 2 * elapsed + 1  # burst + refill (+1: a token completing mid-run)
    assert admitted >= 40 - 2 * 5  # at most 1.25 L = 5 stranded in each replica


async def test_redis_down_fails_open_and_recovers(
    replicas: Callable[..., RateLimiter], redis_url: str
) -> None:
    dead = replicas()
    dead.redis = RedisClient(f"redis://127.0.0.1:{free_port()}/0")
    await dead.start()
    limit = Limit(rate=0.01, burst=1)
    decisions = [await dead.admit(key(), limit) for _ in range(5)]
    assert all(d.admitted and not d.checked for d in decisions)
    assert dead.failing_open
    assert not await dead.redis_reachable()

    # Redis comes back (same limiter, now pointed at a live server): limits apply again.
    await dead.redis.stop()
    dead.redis = RedisClient(redis_url)
    await dead.start()
    await asyncio.sleep(0.35)  # past retry_s
    bucket = key()
    assert [(await dead.admit(bucket, limit)).admitted for _ in range(2)] == [True, False]
    assert not dead.failing_open


async def test_stale_leases_are_pruned(replicas: Callable[..., RateLimiter]) -> None:
    subject = replicas(lease_ttl_s=0.05)
    await subject.start()
    for _ in range(20):
        await subject.admit(key(), Limit(rate=100, burst=100))
    assert subject.prune() == 0
    await asyncio.sleep(0.1)
    assert subject.prune() == 20


async def test_a_broken_reply_fails_open_instead_of_leaving_requests_waiting(
    replicas: Callable[..., RateLimiter],
) -> None:
    subject = replicas()
    await subject.start()

    async def garbage(**kwargs: Any) -> Any:
        return ["not", "numbers"]

    subject._script = garbage  # type: ignore[assignment]
    decisions = await asyncio.wait_for(
        asyncio.gather(*(subject.admit(key(), Limit(rate=1, burst=5)) for _ in range(5))), 2
    )
    assert all(d.admitted and not d.checked for d in decisions)
