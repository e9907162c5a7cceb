"""Fixtures every package's tests share (registered as a pytest plugin by entry point)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from ticketing_devkit.stores import (
    RedisServerMissing,
    temporary_database,
    temporary_redis_cluster,
    temporary_redis_db,
)
from ticketing_devkit.tokens import FakeIssuer


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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def issuer() -> Iterator[FakeIssuer]:
    """The fake auth service: signs access tokens, serves their JWKS (`issuer.jwks_url`)."""
    issuer = FakeIssuer()
    with issuer.serve():
        yield issuer
