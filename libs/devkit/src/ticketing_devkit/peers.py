"""Fake peers for a service's tests, built from the commands of `ticketing_common.contracts`: a
test says what each command answers, and every answer is validated against the command's answer
model before it is sent, so a fake cannot drift from the contract the real peer serves.

    app = Starlette(routes=peer_routes({contracts.SALES: sales, contracts.INVENTORY_EVENTS: ...}))

A handler takes the request and returns the answer (a model or its JSON data), or None for the
peer's 404. Starlette is imported when used: only services' tests use this, and they have it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

Handler = Callable[["Request"], Awaitable[Any]]
UNAUTHORIZED = {
    "type": "https://ticketing-pro.com/problems/unauthorized",
    "title": "Unauthorized",
    "status": 401,
}
NOT_FOUND = {
    "type": "https://ticketing-pro.com/problems/not-found",
    "title": "Not Found",
    "status": 404,
}


def peer_routes(answers: Mapping[Any, Handler], *, service_token: str | None = None) -> list[Route]:
    """Routes playing the commands in `answers` ({Command: handler}); with `service_token`, a
    call without that credential is refused (401), as the real peer refuses it."""
    return [_route(command, handler, service_token) for command, handler in answers.items()]


def _route(command: Any, handler: Handler, service_token: str | None) -> Route:
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        if service_token is not None and request.headers.get("x-service-token") != service_token:
            return JSONResponse(UNAUTHORIZED, 401, media_type="application/problem+json")
        answer = await handler(request)
        if answer is None:
            return JSONResponse(NOT_FOUND, 404, media_type="application/problem+json")
        checked = command.answer.model_validate(answer)  # the contract, or the test fails here
        return Response(checked.model_dump_json(), media_type="application/json")

    return Route(command.path, endpoint, methods=[command.method])
