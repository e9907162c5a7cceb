"""The gateway's own routes (the proxied paths are not FastAPI routes; see proxy.py)."""

from __future__ import annotations

from fastapi import APIRouter

from ticketing_gateway.deps import Status
from ticketing_gateway.status import StatusReport

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
