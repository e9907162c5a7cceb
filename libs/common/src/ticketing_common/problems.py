"""RFC 9457 problem details: the one error format every service answers with."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://ticketing-pro.com/problems/"


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem+json body.

    `slug` names the problem type (`seats-unavailable`); extra keyword arguments become
    extension members of the body (`unavailable=[...]`).
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or HTTPStatus(status).phrase)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.type = PROBLEM_TYPE_BASE + slug if slug else "about:blank"
        self.headers = headers or {}
        self.extensions = extensions

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body

    def to_response(self, instance: str | None = None) -> Response:
        return problem_response(self.to_dict(instance), self.status, self.headers)


def problem_response(
    body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body, default=str), status, headers=headers, media_type=PROBLEM_JSON
    )


# Shorthands for the problems every service raises.
def not_found(what: str, ident: str) -> Problem:
    return Problem(404, f"{what} {ident!r} does not exist", slug="not-found")


def forbidden(detail: str = "You may not do this") -> Problem:
    return Problem(403, detail, slug="forbidden")


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def conflict(detail: str, slug: str = "conflict", **extensions: Any) -> Problem:
    return Problem(409, detail, slug=slug, **extensions)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        item = {
            "loc": list(error.get("loc", ())),
            "msg": error.get("msg"),
            "type": error.get("type"),
        }
        errors.append(item)
    return errors


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.to_response(request.url.path)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    if any(e["type"] == "json_invalid" for e in errors):
        problem = Problem(400, "The request body is not valid JSON", slug="malformed-json")
        return problem_response(problem.to_dict(request.url.path) | {"errors": errors}, 400)
    problem = Problem(
        422,
        "The request does not match the schema",
        slug="validation-error",
        title="Invalid request",
    )
    return problem_response(problem.to_dict(request.url.path) | {"errors": errors}, 422)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    slug = None
    if detail == HTTPStatus(exc.status_code).phrase:
        # The router's own 404 and 405 say what happened, like every other problem.
        detail, slug = _routing_detail(request, exc.status_code, headers)
    problem = Problem(exc.status_code, detail, slug=slug, headers=headers)
    return problem.to_response(request.url.path)


def _routing_detail(
    request: Request, status: int, headers: dict[str, str]
) -> tuple[str | None, str | None]:
    if status == 404:
        return f"Nothing is served at {request.url.path}", "not-found"
    if status == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        detail = f"{request.method} is not allowed on {request.url.path}"
        return (f"{detail}; allowed: {allowed}" if allowed else detail), "method-not-allowed"
    return None, None


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    # Unexpected errors become a 500 problem in RequestContextMiddleware (middleware.py).
