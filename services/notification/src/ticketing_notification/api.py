from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from ticketing_common.problems import PROBLEM
from ticketing_common.security import CurrentUser

from ticketing_notification import repository
from ticketing_notification.deps import Connection
from ticketing_notification.schemas import NotificationOut

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


# API.md writes the path as "/" under the prefix; both spellings answer, with no redirect
# (a redirect would point past the gateway at this service's own address).
@router.get("/", include_in_schema=False, response_model=list[NotificationOut])
@router.get(
    "",
    response_model=list[NotificationOut],
    summary="The caller's sent notifications, newest first",
    responses={401: PROBLEM, 422: PROBLEM},
)
async def my_notifications(
    user: CurrentUser,
    conn: Connection,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many")] = 50,
) -> list[dict[str, Any]]:
    return await repository.sent_to(conn, user.user_id, limit)
