"""The gateway's own routes (the proxied paths are not FastAPI routes; see proxy.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from ticketing_common.problems import unprocessable

from ticketing_api_gateway.deps import History, Status
from ticketing_api_gateway.history import BUCKET_MINUTES, StatusHistory
from ticketing_api_gateway.status import StatusReport

router = APIRouter(tags=["status"])


@router.get(
    "/status",
    summary="Every service's readiness, with latency, and an overall verdict",
    description=(
        "The data behind the status page. `status` is `operational` when every service is "
        "ready, `outage` when none serves, `degraded` otherwise (a service down, or one that "
        "says it is degraded: inventory rebuilding its state after a cache loss). Answers are "
        "reused for a couple of seconds."
    ),
)
async def status(page: Status) -> StatusReport:
    return await page.report()


@router.get(
    "/status/history",
    summary="The last 24 hours of every component, as bars",
    description=(
        "Samples of `/status` the gateway records itself (one a minute by default, kept 24 "
        "hours in Redis), grouped into `bucket_minutes` intervals per component: the gateway, "
        "each service, and each dependency a service reports (`<service>/<check>`). A bucket's "
        "`status` is the worst state sampled in it; `no_data` where nothing was recorded."
    ),
    responses={503: {"content": {"application/problem+json": {}}}},
)
async def status_history(
    history: History,
    response: Response,
    bucket_minutes: Annotated[
        int, Query(description="Bar width: 5, 10, 15, 30 or 60 minutes")
    ] = 60,
) -> StatusHistory:
    if bucket_minutes not in BUCKET_MINUTES:
        raise unprocessable(
            (["query", "bucket_minutes"], "must be 5, 10, 15, 30 or 60", "bucket_minutes"),
            detail="bucket_minutes must be 5, 10, 15, 30 or 60",
        )
    response.headers["Cache-Control"] = "public, max-age=30"
    return await history.history(bucket_minutes)
