import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ticketing_devkit.processes import ServiceProcess

sys.path.insert(0, str(Path(__file__).parent))  # the tests' helpers (support.py, upstream_app.py)

from support import PREFIXES, gateway_env, running_gateway, start_upstream
from ticketing_devkit.tokens import FakeIssuer


@pytest.fixture(scope="session")
def jwks_url(issuer: FakeIssuer) -> str:
    return issuer.jwks_url  # the devkit's issuer fixture serves it


@pytest.fixture(scope="session")
def upstream() -> Iterator[ServiceProcess]:
    process = start_upstream("main")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def featured_upstream() -> Iterator[ServiceProcess]:
    """Serves one longer prefix inside /api/v1/events, to prove the longest prefix wins."""
    process = start_upstream("featured")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def gateway(
    upstream: ServiceProcess, featured_upstream: ServiceProcess, jwks_url: str, redis_url: str
) -> Iterator[ServiceProcess]:
    routes = dict.fromkeys(PREFIXES, upstream.url)
    routes["/api/v1/events/featured"] = featured_upstream.url
    env = gateway_env(
        routes,
        jwks_url,
        redis_url,
        max_body_bytes="65536",
        cors_origins=["https://app.example"],
    )
    with running_gateway(env) as process:
        yield process


@pytest.fixture
def client(gateway: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=10) as http:
        yield http


@pytest.fixture
def user(issuer: FakeIssuer) -> dict[str, str]:
    """Headers of a signed-in customer (a fresh user each test)."""
    return {"Authorization": f"Bearer {issuer.token()}"}
