"""Helpers the gateway's tests share: a token issuer, upstream and gateway processes."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from ticketing_devkit.processes import ServiceProcess

TESTS = Path(__file__).parent
GATEWAY_APP = "ticketing_api_gateway.main:create_app"
PREFIXES = (
    "/api/v1/auth",
    "/api/v1/events",
    "/api/v1/venues",
    "/api/v1/inventory",
    "/api/v1/bookings",
    "/api/v1/payments",
    "/api/v1/search",
    "/api/v1/notifications",
)
GENEROUS = {"rate": 100_000, "burst": 100_000}


def start_upstream(name: str, port: int | None = None, **env: str) -> ServiceProcess:
    return ServiceProcess(
        "upstream_app:create_app",
        {"PYTHONPATH": str(TESTS), "UPSTREAM_NAME": name, **env},
        port=port,
        name=f"upstream-{name}",
    ).start()


def gateway_env(
    routes: dict[str, str], jwks_url: str, redis_url: str, **extra: Any
) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "test",
        "GATEWAY_ROUTES": json.dumps(routes),
        "JWKS_URL": jwks_url,
        "JWKS_MIN_REFETCH_S": "0.5",
        "REDIS_URL": redis_url,
        "RATE_LIMITS": json.dumps({"default": {"anonymous": GENEROUS, "user": GENEROUS}}),
        "STATUS_CACHE_S": "0",
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (every test client) and
        # rewrite the peer before the gateway sees it; TRUSTED_PROXY_HOPS alone decides here.
        "FORWARDED_ALLOW_IPS": "",
    }
    for key, value in extra.items():
        env[key.upper()] = value if isinstance(value, str) else json.dumps(value)
    return env


@contextmanager
def running_gateway(env: dict[str, str], name: str = "gateway") -> Iterator[ServiceProcess]:
    with ServiceProcess(GATEWAY_APP, env, name=name) as process:
        yield process


def hits(upstream: ServiceProcess) -> int:
    count: int = httpx.get(f"{upstream.url}/_hits").json()["hits"]
    return count


def echoed_headers(response: httpx.Response) -> dict[str, str]:
    """The headers the upstream received (names lower-case; repeated names joined)."""
    found: dict[str, str] = {}
    for name, value in response.json()["headers"]:
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


def access_lines(process: ServiceProcess) -> list[dict[str, Any]]:
    lines = []
    for line in process.logs().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("logger") == "access":
            lines.append(entry)
    return lines
