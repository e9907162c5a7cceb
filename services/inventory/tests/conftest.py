import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.responses import JSONResponse
from starlette.routing import Route
from ticketing_devkit.processes import ServiceProcess, serve_app

sys.path.insert(0, str(Path(__file__).parent))  # the tests' helpers (support.py)

from support import APP, JWKS, Inventory, Truth, service_env, wait_until_ready


@pytest.fixture(scope="session")
def truth() -> Truth:
    return Truth()


@pytest.fixture(scope="session")
def jwks_url(truth: Truth) -> Iterator[str]:
    """The auth JWKS, and at the same address events' and booking's internal routes (`Truth`)."""

    async def jwks(_: object) -> JSONResponse:
        return JSONResponse(JWKS)

    app = truth.app()
    app.router.routes.append(Route("/jwks", jwks))
    with serve_app(app) as url:
        yield f"{url}/jwks"


@pytest.fixture(scope="session")
def service(redis_url: str, jwks_url: str) -> Iterator[ServiceProcess]:
    # No sweeper: it visits every event in this session's Redis database, so every 5 s it would
    # tidy the expired claims a script test is looking at (test_scripts' sweeper test flaked so).
    env = service_env(redis_url, jwks_url, MAX_ACTIVE_HOLDS_PER_USER="3", SWEEP_INTERVAL_S="3600")
    with ServiceProcess(APP, env, name="inventory") as process:
        wait_until_ready(process)
        yield process


@pytest.fixture(scope="session")
def inventory(service: ServiceProcess) -> Inventory:
    return Inventory(service.url)


@pytest.fixture(scope="session")
def cluster(redis_cluster_url: str, jwks_url: str) -> Iterator[Inventory]:
    """The service on a real 3-node Redis Cluster (redis-py's cluster client)."""
    env = service_env(
        redis_cluster_url, jwks_url, REDIS_CLUSTER="true", MAX_ACTIVE_HOLDS_PER_USER="3"
    )
    with ServiceProcess(APP, env, name="inventory-cluster") as process:
        wait_until_ready(process)
        yield Inventory(process.url)


@pytest.fixture(scope="session")
def cluster_short_ttl(redis_cluster_url: str, jwks_url: str) -> Iterator[Inventory]:
    env = service_env(
        redis_cluster_url, jwks_url, REDIS_CLUSTER="true", HOLD_TTL_S="1", SWEEP_INTERVAL_S="0.5"
    )
    with ServiceProcess(APP, env, name="inventory-cluster-short-ttl") as process:
        wait_until_ready(process)
        yield Inventory(process.url)


@pytest.fixture(scope="session")
def short_ttl(redis_url: str, jwks_url: str) -> Iterator[Inventory]:
    """Holds last one second and no sweeper runs: expiry must work on its own."""
    env = service_env(redis_url, jwks_url, HOLD_TTL_S="1", SWEEP_INTERVAL_S="3600")
    with ServiceProcess(APP, env, name="inventory-short-ttl") as process:
        wait_until_ready(process)
        yield Inventory(process.url)
