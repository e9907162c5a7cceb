"""The seat-hold hot path, served ahead of FastAPI's router.

`FastPath` is ASGI middleware placed innermost among the service's middleware (so request ids,
the access log, body limits, CORS and tracing still apply) but in front of FastAPI's exception
middleware, router and parameter machinery. It hands the requests of the routes it is given
straight to their endpoints, which take the Request and return a Response, and it answers their
problems itself. The routes stay ordinary FastAPI routes: documented in the OpenAPI schema, and
served by FastAPI as usual in an app without this middleware. Measured with bench/holds.py
(variants in bench/variants.py): a third less CPU per hold than through the router.

The helpers below read what the endpoints need with the shared library's pieces, as FastAPI's
routes do: the caller (`security.authenticated`, as CurrentUser), and bodies and path parameters
with the same problems (`problems.invalid_request`, `problems.body_too_large`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from ticketing_common.problems import Problem, body_too_large, invalid_request

from ticketing_inventory.ids import EVENT_ID_PATTERN

Endpoint = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)
_EVENT_ID = re.compile(EVENT_ID_PATTERN)


class FastPath:
    def __init__(self, app: ASGIApp, routes: Sequence[APIRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match = route.path_regex.match(scope["path"])
                if match and scope["method"] in (route.methods or ()):
                    await self._serve(route, match.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _serve(
        route: APIRoute, params: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["path_params"] = params
        scope["route"] = route
        endpoint: Endpoint = route.endpoint
        try:
            response = await endpoint(Request(scope, receive, send))
        except Problem as problem:
            response = problem.to_response(scope["path"])
        await response(scope, receive, send)


def serve_ahead_of_router(app: FastAPI, routes: Sequence[BaseRoute], *endpoints: Endpoint) -> None:
    """Serve the routes among `routes` whose endpoint is one of `endpoints` through FastPath."""
    chosen = [r for r in routes if isinstance(r, APIRoute) and r.endpoint in endpoints]
    if len(chosen) != len(endpoints):
        raise ValueError("every endpoint served ahead of the router needs its route")
    app.user_middleware.append(Middleware(FastPath, routes=chosen))  # innermost


def _errors(
    errors: Sequence[ErrorDetails | dict[str, Any]], *loc: str | int
) -> list[dict[str, Any]]:
    return [
        {"loc": [*loc, *error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in errors
    ]


def path_event_id(request: Request) -> str:
    event_id: str = request.path_params["event_id"]
    if not _EVENT_ID.match(event_id):
        error = {
            "loc": ("path", "event_id"),
            "msg": f"String should match pattern '{EVENT_ID_PATTERN}'",
            "type": "string_pattern_mismatch",
        }
        raise invalid_request(_errors([error]))
    return event_id


async def small_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) past `limit` bytes: the service-wide limit is sized for layouts."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise body_too_large(limit)
    body = await request.body()  # cached: the idempotency key's check reads it again
    if len(body) > limit:  # a chunked body (no Content-Length)
        raise body_too_large(limit)
    return body


def parse_body(model: type[M], raw: bytes) -> M:
    """Validate a JSON body straight from bytes (pydantic-core parses it)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid_request(_errors(exc.errors(), "body")) from None
