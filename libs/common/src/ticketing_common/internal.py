"""The service credential: `/internal/...` routes answer only callers that present it."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends
from starlette.requests import HTTPConnection

from ticketing_common.problems import unauthorized

SERVICE_TOKEN_HEADER = "X-Service-Token"  # noqa: S105 - a header name, not a secret


def check_service_credential(conn: HTTPConnection) -> None:
    """401 unless the caller presents the service credential (an internal fast-path route calls
    this itself: FastPath runs no dependencies)."""
    presented = conn.headers.get(SERVICE_TOKEN_HEADER)
    expected = conn.app.state.settings.service_token.get_secret_value()
    if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise unauthorized("Internal endpoints need a valid service credential")


async def require_service(conn: HTTPConnection) -> None:
    check_service_credential(conn)


def internal_router() -> APIRouter:
    """A router for service-to-service commands; every route on it needs the credential."""
    return APIRouter(prefix="/internal", tags=["internal"], dependencies=[Depends(require_service)])
