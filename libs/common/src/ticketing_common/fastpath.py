"""Hot routes served ahead of FastAPI's router (inventory's seat hold, events' event and seat
map).

`FastPath` is ASGI middleware placed innermost among the service's middleware (so request ids,
the access log, body limits, CORS and tracing still apply) but in front of FastAPI's exception
middleware, router and parameter machinery. It hands the requests of the routes it is given
straight to their endpoints, which take the Request and return a Response, and it answers their
problems itself. The routes stay ordinary FastAPI routes: documented in the OpenAPI schema (their
parameters and security declared in `openapi_extra`, since the endpoint reads its own inputs),
and served by FastAPI as usual in an app without this middleware. Measured on the seat hold with
inventory's bench/holds.py (variants in bench/variants.py): a third less CPU per hold than
through the router.

The helpers below read what the endpoints need with the shared library's pieces, as FastAPI's
routes do: the caller (`security.authenticated`, `security.optional_caller`), and bodies and path
parameters with the same problems (`problems.invalid_request`, `problems.body_too_large`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
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

from ticketing_common.ids import EVENT_ID_PATTERN
from ticketing_common.problems import Problem, body_too_large, invalid_request

Endpoint = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)
_EVENT_ID = re.compile(EVENT_ID_PATTERN)


class FastPath:
    """`routes`: each fast route with the routes declared before it in its router, which the
    router would match first (`/events/managed` before `/events/{event_id}`)."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[tuple[APIRoute, Sequence[APIRoute]]],
        handlers: Mapping[Any, Callable[[Request, Any], Response | Awaitable[Response]]],
    ) -> None:
        self.app = app
        self.routes = routes
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            for route, earlier in self.routes:
                match = route.path_regex.match(path)
                if match and method in (route.methods or ()):
                    if not any(other.path_regex.match(path) for other in earlier):
                        await self._serve(route, match.groupdict(), scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)

    async def _serve(
        self, route: APIRoute, params: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["path_params"] = params
        scope["route"] = route
        endpoint: Endpoint = route.endpoint
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Problem as problem:
            response = problem.to_response(scope["path"])
        except Exception as exc:
            # The app's handlers (a peer unavailable → 503, ...), as its router would apply
            # them; anything without one is the service's error, for the outer middleware.
            handler = next(
                (
                    self.handlers[k]
                    for k in type(exc).__mro__
                    if k in self.handlers and k is not Exception
                ),
                None,
            )
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)


def _shares_a_method(one: APIRoute, other: APIRoute) -> bool:
    return bool((one.methods or set()) & (other.methods or set()))


def serve_ahead_of_router(app: FastAPI, routes: Sequence[BaseRoute], *endpoints: Endpoint) -> None:
    """Serve the routes among `routes` (one router's, in order) whose endpoint is one of
    `endpoints` through FastPath; a request an earlier route of `routes` serves still goes to
    the router."""
    api_routes = [r for r in routes if isinstance(r, APIRoute)]
    # Only an earlier route of the same method can take a request first: the check per request
    # is then a path match or two (none on the seat hold).
    chosen = [
        (route, [other for other in api_routes[:index] if _shares_a_method(other, route)])
        for index, route in enumerate(api_routes)
        if route.endpoint in endpoints
    ]
    if len(chosen) != len(endpoints):
        raise ValueError("every endpoint served ahead of the router needs its route")
    for route, _ in chosen:
        if route.dependencies:  # a router's credential check, say: FastPath would skip it
            raise ValueError(f"{route.path} has dependencies, which FastPath does not run")
    # The app's exception handlers, as a live view: a service may add its own later.
    handlers = app.exception_handlers
    app.user_middleware.append(Middleware(FastPath, routes=chosen, handlers=handlers))  # innermost


def _errors(
    errors: Sequence[ErrorDetails | dict[str, Any]], *loc: str | int
) -> list[dict[str, Any]]:
    return [
        {"loc": [*loc, *error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in errors
    ]


def path_parameter(name: str) -> dict[str, Any]:
    """A string path parameter, documented as FastAPI documents `name: str` (for a fast-path
    route's `openapi_extra`)."""
    title = name.replace("_", " ").title()
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "title": title},
    }


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


def parse_query(model: type[M], request: Request) -> M:
    """Validate the query string as a model, as FastAPI validates `Annotated[Model, Query()]`
    (the last of a repeated parameter counts)."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise invalid_request(_errors(exc.errors(), "query")) from None


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI parameters FastAPI documents for `Annotated[model, Query()]`, for a fast-path
    route's `openapi_extra` (its endpoint reads the query itself, with `parse_query`)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        if field.get("default", ...) is None:
            field = {key: value for key, value in field.items() if key != "default"}
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
        if "description" in field:
            parameter["description"] = field["description"]
        parameters.append(parameter)
    return parameters
