"""The status page's data: every upstream's /ready with its latency, the gateway's own view
(circuit breakers, rate limiter) and one overall verdict."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from ticketing_api_gateway.breaker import BreakerState
from ticketing_api_gateway.ratelimit import RateLimiter
from ticketing_api_gateway.upstreams import Readiness, ReadyState, Upstreams

Verdict = Literal["operational", "degraded", "outage"]


class UpstreamStatus(BaseModel):
    service: str | None  # as the upstream names itself in /ready; null when it did not answer
    url: str
    routes: list[str]
    status: ReadyState
    latency_ms: float
    http_status: int | None
    circuit: BreakerState
    checks: dict[str, object] | None


class RateLimiterStatus(BaseModel):
    redis: Literal["ok", "unreachable"]
    failing_open: bool


class StatusReport(BaseModel):
    status: Verdict
    checked_at: datetime
    upstreams: list[UpstreamStatus]
    rate_limiter: RateLimiterStatus


def verdict(readiness: list[Readiness]) -> Verdict:
    """operational: every service ready; outage: none serving; degraded otherwise (including a
    service that serves but says it is degraded, like inventory rebuilding after a cache loss)."""
    ready = sum(1 for item in readiness if item.status == "ready")
    if ready == len(readiness):
        return "operational"
    serving = ready + sum(1 for item in readiness if item.status == "degraded")
    return "outage" if serving == 0 else "degraded"


class StatusPage:
    """Builds the report, reusing it for `cache_s` and sharing one check among concurrent callers
    (the page is public: it must not become a way to flood every service's /ready)."""

    def __init__(
        self,
        upstreams: Upstreams,
        limiter: RateLimiter,
        routes: dict[str, list[str]],
        *,
        timeout_s: float,
        cache_s: float,
    ) -> None:
        self.upstreams = upstreams
        self.limiter = limiter
        self.routes = routes
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self._report: StatusReport | None = None
        self._built_at = 0.0
        self._building: asyncio.Task[StatusReport] | None = None

    async def report(self) -> StatusReport:
        if self._report is not None and time.monotonic() - self._built_at < self.cache_s:
            return self._report
        if self._building is None:
            self._building = asyncio.create_task(self._build())
            self._building.add_done_callback(self._built)
        return await asyncio.shield(self._building)

    def _built(self, task: asyncio.Task[StatusReport]) -> None:
        self._building = None
        if not task.cancelled() and task.exception() is None:
            self._report = task.result()
            self._built_at = time.monotonic()

    async def _build(self) -> StatusReport:
        readiness, redis_ok = await asyncio.gather(
            self.upstreams.readiness(self.timeout_s), self.limiter.redis_reachable()
        )
        return StatusReport(
            status=verdict(readiness),
            checked_at=datetime.now(UTC),
            upstreams=[
                UpstreamStatus(
                    service=item.service,
                    url=item.url,
                    routes=self.routes.get(item.url, []),
                    status=item.status,
                    latency_ms=item.latency_ms,
                    http_status=item.http_status,
                    circuit=self.upstreams.breakers[item.url].state,
                    checks=item.detail,
                )
                for item in readiness
            ],
            rate_limiter=RateLimiterStatus(
                redis="ok" if redis_ok else "unreachable", failing_open=self.limiter.failing_open
            ),
        )
