"""The upstream services: the proxy's keep-alive connections to them (ticketing_common.http1),
an aiohttp session for everything else the gateway asks them (readiness, OpenAPI documents), a
circuit breaker each, and their readiness for the status page."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import orjson
from ticketing_common.http1 import Http1Client, Origin
from ticketing_common.resources import Resource

from ticketing_api_gateway.breaker import CircuitBreaker

# degraded: it answers /ready with 200 but says it works only in part (inventory rebuilding).
ReadyState = Literal["ready", "degraded", "not-ready", "unreachable"]


@dataclass(frozen=True, slots=True)
class Readiness:
    url: str
    status: ReadyState
    latency_ms: float
    http_status: int | None
    service: str | None  # the name the upstream reports in its /ready answer
    detail: dict[str, Any] | None  # its checks, when it said


class Upstreams(Resource):
    name = "upstreams"

    def __init__(
        self,
        base_urls: Iterable[str],
        *,
        pool_size: int,
        pool_size_per_host: int,
        keepalive_s: float,
        failure_threshold: int,
        cooldown_s: float,
    ) -> None:
        self.pool_size = pool_size
        self.pool_size_per_host = pool_size_per_host
        self.keepalive_s = keepalive_s
        self.breakers = {
            url: CircuitBreaker(failure_threshold=failure_threshold, cooldown_s=cooldown_s)
            for url in base_urls
        }
        # Each base URL's origin, and the path the public path is appended to ("" usually).
        self.origins = {url: (Origin.of(url), urlsplit(url).path) for url in self.breakers}
        self._session: aiohttp.ClientSession | None = None
        self._client: Http1Client | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("upstreams are not started")
        return self._session

    @property
    def client(self) -> Http1Client:
        """The proxy's connections."""
        if self._client is None:
            raise RuntimeError("upstreams are not started")
        return self._client

    async def start(self) -> None:
        self._client = Http1Client(
            limit_per_origin=self.pool_size_per_host, keepalive_s=self.keepalive_s
        )
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self.pool_size,
                limit_per_host=self.pool_size_per_host,
                keepalive_timeout=self.keepalive_s,
                ttl_dns_cache=60,
            ),
            # Bodies pass through as the upstream encoded them.
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
        )

    async def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._session is not None:
            await self._session.close()

    async def readiness(self, timeout_s: float) -> list[Readiness]:
        return list(await asyncio.gather(*(self._ready(url, timeout_s) for url in self.breakers)))

    async def _ready(self, url: str, timeout_s: float) -> Readiness:
        started = time.perf_counter()
        try:
            async with self.session.get(
                f"{url}/ready", timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            latency = round((time.perf_counter() - started) * 1000, 1)
            return Readiness(url, "unreachable", latency, None, None, None)
        latency = round((time.perf_counter() - started) * 1000, 1)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        service = body.get("service") if isinstance(body, dict) else None
        checks = body.get("checks") if isinstance(body, dict) else None
        said = body.get("status") if isinstance(body, dict) else None
        state: ReadyState = "not-ready"
        if status == 200:
            state = "degraded" if said == "degraded" else "ready"
        return Readiness(
            url,
            state,
            latency,
            status,
            service if isinstance(service, str) else None,
            checks if isinstance(checks, dict) else None,
        )
