"""Fixtures every package's tests share (registered as a pytest plugin by entry point)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from ticketing_devkit.stores import (
    RedisServerMissing,
    temporary_database,
    temporary_redis_cluster,
    temporary_redis_db,
)
from ticketing_devkit.tokens import FakeIssuer

T = TypeVar("T")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped afterwards)."""
    with temporary_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis logical database claimed for this test session (flushed afterwards)."""
    with temporary_redis_db() as url:
        yield url


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A private 3-master Redis Cluster for this session (skipped when Redis is not installed)."""
    try:
        with temporary_redis_cluster() as url:
            yield url
    except RedisServerMissing as exc:
        if os.environ.get("CI"):  # .ci/run installs Redis: missing there is a failure
            pytest.fail(f"no Redis Cluster for this test: {exc}")
        pytest.skip(f"no Redis Cluster for this test: {exc}")


def assert_problem(response: Any, status: int, **fields: Any) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status` (and the given members)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert "type" in body
    assert "Traceback" not in response.text
    for key, value in fields.items():
        assert body.get(key) == value, (key, body)
    return body


def eventually(
    check: Callable[[], T], timeout_s: float = 15.0, *, logs: Callable[[], str] | None = None
) -> T:
    """Poll `check` until it answers something truthy, and return that: for what a loop or a
    consumer does in the background. After `timeout_s` fail, with the tail of `logs` if given."""
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            tail = f":\n{logs()[-3000:]}" if logs else f": {check}"
            raise AssertionError(f"not reached within {timeout_s}s{tail}")
        time.sleep(0.05)
    return result


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def issuer() -> Iterator[FakeIssuer]:
    """The fake auth service: signs access tokens, serves their JWKS (`issuer.jwks_url`)."""
    issuer = FakeIssuer()
    with issuer.serve():
        yield issuer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """DynamoDB's API for this session (the devkit's moto server); tables are the tests' own."""
    from ticketing_devkit import services

    with services.moto_server() as url:
        yield url
