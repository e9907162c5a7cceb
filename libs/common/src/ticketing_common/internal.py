"""The service credential: `/internal/...` routes answer only callers that present it."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from starlette.requests import HTTPConnection

from ticketing_common.problems import unauthorized

SERVICE_TOKEN_HEADER = "X-Service-Token"  # noqa: S105 - a header name, not a secret


async def require_service(
    conn: HTTPConnection,
    x_service_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    expected = conn.app.state.settings.service_token.get_secret_value()
    if not x_service_token or not hmac.compare_digest(x_service_token.encode(), expected.encode()):
        raise unauthorized("Internal endpoints need a valid service credential")


def internal_router() -> APIRouter:
    """A router for service-to-service commands; every route on it needs the credential."""
    return APIRouter(prefix="/internal", tags=["internal"], dependencies=[Depends(require_service)])
