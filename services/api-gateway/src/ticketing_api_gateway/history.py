"""The status page's last 24 hours, recorded by the platform itself.

Every `STATUS_SAMPLE_INTERVAL_S` one gateway replica (whichever claims the interval's slot with
`SET NX` first) takes the `/status` report and stores each component's state in one Redis sorted
set (score: the slot's time). Samples older than the retention are trimmed on every write, so the
set holds at most retention / interval samples (1,440 of ~0.5 kB at one a minute). A gap — no
gateway alive, or Redis down — stays a gap: the history says "no data" rather than guessing.

Components: the gateway, every service (operational when ready, degraded when it answers but a
dependency fails, outage when unreachable) and each dependency a service reports in `/ready`
(its database, Redis, DynamoDB, ...: operational or outage), named `<service>/<check>`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from ticketing_common.problems import Problem, ProblemType
from ticketing_common.redis import RedisClient

from ticketing_api_gateway.status import StatusPage, StatusReport

log = logging.getLogger(__name__)

State = Literal["operational", "degraded", "outage"]
BucketState = Literal["operational", "degraded", "outage", "no_data"]
Kind = Literal["gateway", "service", "store"]
SAMPLES_KEY = "status:samples"
NAMES_KEY = "status:names"  # upstream URL -> the name it last gave itself
SLOT_KEY = "status:slot:"
GATEWAY = "api-gateway"
SEVERITY: dict[str, int] = {"no_data": 0, "operational": 1, "degraded": 2, "outage": 3}
BUCKET_MINUTES = (5, 10, 15, 30, 60)


class Bucket(BaseModel):
    start: datetime
    status: BucketState = Field(description="The worst state sampled in the interval")
    samples: int
    operational: int
    degraded: int
    outage: int


class ComponentHistory(BaseModel):
    name: str
    kind: Kind
    service: str | None = Field(description="For a store: the service that reported it")
    uptime: float | None = Field(description="Share of samples operational; null without any")
    buckets: list[Bucket]


class StatusHistory(BaseModel):
    since: datetime
    until: datetime
    bucket_minutes: int
    sample_interval_s: float
    components: list[ComponentHistory]


def component_states(
    report: StatusReport, names: dict[str, str]
) -> dict[str, tuple[Kind, str | None, State]]:
    """{component: (kind, service, state)} of one report. `names` gives upstreams that did not
    answer the name they answered with before."""
    states: dict[str, tuple[Kind, str | None, State]] = {
        GATEWAY: ("gateway", None, "operational"),
        f"{GATEWAY}/redis": (
            "store",
            GATEWAY,
            "operational" if report.rate_limiter.redis == "ok" else "outage",
        ),
    }
    for upstream in report.upstreams:
        service = upstream.service or names.get(upstream.url) or _route_name(upstream.routes)
        state: State = {"ready": "operational", "not-ready": "degraded"}.get(
            upstream.status, "outage"
        )  # type: ignore[assignment]
        states[service] = ("service", None, state)
        for check, detail in (upstream.checks or {}).items():
            ok = isinstance(detail, dict) and detail.get("status") == "ok"
            states[f"{service}/{check}"] = ("store", service, "operational" if ok else "outage")
    return states


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _route_name(routes: list[str]) -> str:
    return routes[0].rstrip("/").rsplit("/", 1)[-1] if routes else "unknown"


class StatusRecorder:
    """Samples the status report into Redis and reads the history back."""

    def __init__(
        self,
        redis: RedisClient,
        page: StatusPage,
        *,
        interval_s: float,
        retention_s: float,
        cache_s: float,
    ) -> None:
        self.redis = redis
        self.page = page
        self.interval_s = interval_s
        self.retention_s = retention_s
        self.cache_s = cache_s
        self.replica = uuid.uuid4().hex
        self._cached: dict[int, tuple[float, StatusHistory]] = {}

    @property
    def max_samples(self) -> int:
        return int(self.retention_s // self.interval_s) + 2

    async def run(self, _app: Any = None) -> None:
        """Sample each interval (the first one at once), until cancelled."""
        while True:
            try:
                await self.sample(time.time())
            except (RedisError, OSError) as exc:
                log.warning("status sample not recorded", extra={"error": repr(exc)})
            slot_end = (time.time() // self.interval_s + 1) * self.interval_s
            await asyncio.sleep(max(0.0, slot_end - time.time()) + 0.05)

    async def sample(self, now: float) -> bool:
        """Record the report for the slot `now` falls in, unless a replica did. True if this
        call recorded it."""
        slot = int(now // self.interval_s)
        client = self.redis.client
        claimed = await client.set(
            f"{SLOT_KEY}{slot}", self.replica, nx=True, px=int(self.interval_s * 2000)
        )
        if not claimed:
            return False
        report = await self.page.report()
        names = {
            _text(key): _text(value) for key, value in (await client.hgetall(NAMES_KEY)).items()
        }
        learned = {u.url: u.service for u in report.upstreams if u.service}
        states = component_states(report, names)
        at = slot * self.interval_s
        member = orjson.dumps({"t": at, "c": {name: list(v) for name, v in states.items()}})
        async with client.pipeline(transaction=True) as pipe:
            for url, name in learned.items():
                pipe.hset(NAMES_KEY, url, name)
            pipe.zadd(SAMPLES_KEY, {member: at})
            pipe.zremrangebyscore(SAMPLES_KEY, "-inf", f"({now - self.retention_s}")
            pipe.zremrangebyrank(SAMPLES_KEY, 0, -(self.max_samples + 1))
            await pipe.execute()
        return True

    async def history(self, bucket_minutes: int, now: float | None = None) -> StatusHistory:
        """The last `retention_s` as buckets per component (built at most every `cache_s`: the
        page is public)."""
        cached = self._cached.get(bucket_minutes)
        if now is None and cached is not None and time.monotonic() - cached[0] < self.cache_s:
            return cached[1]
        now = time.time() if now is None else now
        try:
            raw = await self.redis.client.zrangebyscore(SAMPLES_KEY, now - self.retention_s, "+inf")
        except (RedisError, OSError) as exc:
            if cached is not None:
                return cached[1]
            raise Problem(
                503,
                "The status history cannot be read right now; the current status is at /status",
                slug=ProblemType.HISTORY_UNAVAILABLE,
            ) from exc
        history = build_history(
            [orjson.loads(_text(item)) for item in raw],
            now=now,
            retention_s=self.retention_s,
            bucket_s=bucket_minutes * 60,
            sample_interval_s=self.interval_s,
        )
        self._cached[bucket_minutes] = (time.monotonic(), history)
        return history


def build_history(
    samples: list[dict[str, Any]],
    *,
    now: float,
    retention_s: float,
    bucket_s: int,
    sample_interval_s: float,
) -> StatusHistory:
    """Every bucket of the window for every component seen in it, oldest first."""
    last_start = int(now // bucket_s) * bucket_s
    count = max(1, int(retention_s // bucket_s))
    starts = [last_start - bucket_s * n for n in range(count - 1, -1, -1)]
    first = starts[0]
    counts: dict[str, dict[int, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"operational": 0, "degraded": 0, "outage": 0})
    )
    kinds: dict[str, tuple[Kind, str | None]] = {}
    for sample in sorted(samples, key=lambda s: float(s["t"])):
        at = float(sample["t"])
        if at < first:
            continue
        start = int(at // bucket_s) * bucket_s
        for name, (kind, service, state) in sample["c"].items():
            kinds[name] = (kind, service)
            counts[name][start][state] += 1
    order = {"gateway": 0, "service": 1, "store": 1}
    components = []
    for name in sorted(kinds, key=lambda n: (order[kinds[n][0]], kinds[n][1] or n, n)):
        kind, service = kinds[name]
        buckets = []
        for start in starts:
            seen = counts[name].get(start, {"operational": 0, "degraded": 0, "outage": 0})
            total = sum(seen.values())
            worst = max(
                (state for state, n in seen.items() if n),
                key=SEVERITY.__getitem__,
                default="no_data",
            )
            buckets.append(
                Bucket(
                    start=datetime.fromtimestamp(start, UTC), status=worst, samples=total, **seen
                )
            )
        sampled = sum(b.samples for b in buckets)
        up = sum(b.operational for b in buckets)
        components.append(
            ComponentHistory(
                name=name,
                kind=kind,
                service=service,
                uptime=round(up / sampled, 4) if sampled else None,
                buckets=buckets,
            )
        )
    return StatusHistory(
        since=datetime.fromtimestamp(first, UTC),
        until=datetime.fromtimestamp(now, UTC),
        bucket_minutes=bucket_s // 60,
        sample_interval_s=sample_interval_s,
        components=components,
    )
