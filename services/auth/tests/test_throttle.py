"""The throttle's rules on real Redis, with small limits: what is counted, what is refused."""

from collections.abc import AsyncIterator

import pytest
from ticketing_auth.throttle import LoginThrottle
from ticketing_common.problems import Problem
from ticketing_common.redis import RedisClient


@pytest.fixture
async def throttle(redis_url: str) -> AsyncIterator[LoginThrottle]:
    redis = RedisClient(redis_url)
    await redis.start()
    await redis.client.flushdb()  # this session's own database
    yield LoginThrottle(
        redis.client,
        failures_per_email=3,
        failures_per_ip=4,
        attempts_per_ip=10,
        email_window_s=900,
        ip_window_s=60,
    )
    await redis.stop()


async def refused(throttle: LoginThrottle, email: str, ip: str) -> Problem | None:
    try:
        await throttle.admit(email, ip)
    except Problem as problem:
        return problem
    return None


async def test_successes_never_use_up_an_address(throttle: LoginThrottle) -> None:
    for n in range(10):  # up to the ceiling, every one a different customer who gets in
        assert await refused(throttle, f"c{n}@x", "1.1.1.1") is None
        await throttle.succeeded(f"c{n}@x")
    ceiling = await refused(throttle, "c11@x", "1.1.1.1")  # the ceiling still stands
    assert ceiling is not None
    assert ceiling.status == 429
    assert "from this address" in str(ceiling.detail)
    assert 0 < int(ceiling.headers["Retry-After"]) <= 60
    assert await refused(throttle, "c11@x", "2.2.2.2") is None  # another address is apart


async def test_failures_count_per_address_and_per_account(throttle: LoginThrottle) -> None:
    for n in range(4):  # credential stuffing: one failure each on many accounts
        assert await refused(throttle, f"v{n}@x", "3.3.3.3") is None
        await throttle.failed(f"v{n}@x", "3.3.3.3")
    stuffing = await refused(throttle, "v9@x", "3.3.3.3")
    assert stuffing is not None
    assert "from this address" in str(stuffing.detail)

    for n in range(3):  # brute force on one account, from everywhere
        assert await refused(throttle, "target@x", f"4.4.4.{n}") is None
        await throttle.failed("target@x", f"4.4.4.{n}")
    locked = await refused(throttle, "target@x", "5.5.5.5")
    assert locked is not None
    assert "for this account" in str(locked.detail)
    assert 0 < int(locked.headers["Retry-After"]) <= 900


async def test_a_success_clears_the_accounts_failures_not_the_addresses(
    throttle: LoginThrottle,
) -> None:
    for _ in range(2):
        await throttle.admit("me@x", "6.6.6.6")
        await throttle.failed("me@x", "6.6.6.6")
    await throttle.admit("me@x", "6.6.6.6")
    await throttle.succeeded("me@x")
    for _ in range(2):  # the account starts again from zero...
        await throttle.admit("me@x", "6.6.6.6")
        await throttle.failed("me@x", "6.6.6.6")
    # ...the address does not: its four failures throttle it
    problem = await refused(throttle, "me@x", "6.6.6.6")
    assert problem is not None
    assert "from this address" in str(problem.detail)
