"""RFC 9457 problem details: the one error format every service answers with."""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ticketing_common.errors import InvalidCursor, PeerUnavailable

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://ticketing-pro.com/problems/"
# A route's OpenAPI answer for a status it sends as a problem: `responses={404: PROBLEM}`.
PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}


class ProblemType(StrEnum):
    """Every problem type the platform answers with: `type` is PROBLEM_TYPE_BASE + the value.
    docs/api.md ("Problem types") says what each means; a new one is added here first."""

    # Any request
    VALIDATION_ERROR = "validation-error"
    MALFORMED_JSON = "malformed-json"
    BAD_REQUEST = "bad-request"
    NUL_IN_URL = "nul-in-url"
    NUL_IN_TEXT = "nul-in-text"
    BAD_CURSOR = "bad-cursor"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    CONFLICT = "conflict"
    BODY_TOO_LARGE = "body-too-large"
    REQUEST_TIMEOUT = "request-timeout"
    RATE_LIMITED = "rate-limited"
    INTERNAL = "internal"
    NOT_READY = "not-ready"
    BUSY = "busy"

    # A peer failed: what a service says of one it needs (unreachable, too slow, 5xx or an
    # answer it cannot read), and what the gateway says of the service behind a path
    DEPENDENCY_UNAVAILABLE = "dependency-unavailable"
    UPSTREAM_UNREACHABLE = "upstream-unreachable"
    UPSTREAM_UNAVAILABLE = "upstream-unavailable"
    UPSTREAM_TIMEOUT = "upstream-timeout"

    # Idempotency-Key
    BAD_IDEMPOTENCY_KEY = "bad-idempotency-key"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency-in-progress"
    IDEMPOTENCY_RETRY = "idempotency-retry"

    # Auth
    EMAIL_TAKEN = "email-taken"
    WEAK_PASSWORD = "weak-password"  # noqa: S105 - a problem type, not a password
    LOGIN_THROTTLED = "login-throttled"
    NOT_A_CUSTOMER = "not-a-customer"

    # Venues and events
    VENUE_IN_USE = "venue-in-use"
    NOT_A_DRAFT = "not-a-draft"
    EVENT_STARTED = "event-started"
    EVENT_CANCELLED = "event-cancelled"

    # Inventory
    SEATS_UNAVAILABLE = "seats-unavailable"
    SEATS_TAKEN = "seats-taken"
    TOO_MANY_HOLDS = "too-many-holds"
    TOO_MANY_SEATS = "too-many-seats"
    UNKNOWN_EVENT = "unknown-event"
    UNKNOWN_SEATS = "unknown-seats"
    UNKNOWN_SECTION = "unknown-section"
    NOT_STANDING = "not-standing"
    EVENT_CLOSED = "event-closed"
    HOLD_RELEASED = "hold-released"
    HOLD_CONFIRMED = "hold-confirmed"
    HOLD_CONFIRMED_ELSEWHERE = "hold-confirmed-elsewhere"
    HOLD_EXPIRED = "hold-expired"
    INVENTORY_REBUILDING = "inventory-rebuilding"
    INVALID_LAYOUT = "invalid-layout"
    LAYOUT_MISMATCH = "layout-mismatch"
    SOLD_TWICE = "sold-twice"
    OVERSOLD = "oversold"

    # Bookings
    NOT_BOOKABLE = "not-bookable"
    HOLD_NOT_YOURS = "hold-not-yours"
    HOLD_BOOKED = "hold-booked"
    NOT_CANCELLABLE = "not-cancellable"
    NOT_CONFIRMED = "not-confirmed"
    NOT_REFUNDABLE = "not-refundable"
    PAYMENT_IN_PROGRESS = "payment-in-progress"

    # Payments
    PAYMENT_NOT_OPEN = "payment-not-open"
    PAYMENT_MISMATCH = "payment-mismatch"
    PAYMENT_NOT_REFUNDABLE = "payment-not-refundable"
    BAD_SIGNATURE = "bad-signature"
    MALFORMED_EVENT = "malformed-event"
    PROVIDER_ERROR = "provider-error"
    PROVIDER_UNAVAILABLE = "provider-unavailable"

    # The waiting room (the gateway's)
    WAITING_ROOM_REQUIRED = "waiting-room-required"
    WAITING_ROOM_UNKNOWN = "waiting-room-unknown"
    WAITING_ROOM_UNAVAILABLE = "waiting-room-unavailable"
    NOT_IN_QUEUE = "not-in-queue"

    # Search and status
    SEARCH_UNAVAILABLE = "search-unavailable"
    HISTORY_UNAVAILABLE = "history-unavailable"


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
        slug: ProblemType | None = None,
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
    return Problem(404, f"{what} {ident!r} does not exist", slug=ProblemType.NOT_FOUND)


def forbidden(detail: str = "You may not do this") -> Problem:
    return Problem(403, detail, slug=ProblemType.FORBIDDEN)


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, detail, slug=ProblemType.UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}
    )


def conflict(detail: str, slug: ProblemType = ProblemType.CONFLICT, **extensions: Any) -> Problem:
    return Problem(409, detail, slug=slug, **extensions)


def invalid_request(errors: list[dict[str, Any]]) -> Problem:
    """A request that fails validation: 400 for malformed JSON, else 422, each listing `errors`
    (`[{loc, msg, type}]`): what FastAPI's routes and the fast paths answer."""
    if any(error["type"] == "json_invalid" for error in errors):
        return Problem(
            400,
            "The request body is not valid JSON",
            slug=ProblemType.MALFORMED_JSON,
            errors=errors,
        )
    return Problem(
        422,
        "The request does not match the schema",
        slug=ProblemType.VALIDATION_ERROR,
        title="Invalid request",
        errors=errors,
    )


def unprocessable(*errors: tuple[list[str | int], str, str], detail: str | None = None) -> Problem:
    """A 422 for a rule the schema cannot state, with the same `errors` shape as schema
    validation; each error is (loc, message, type) like pydantic's. `detail`: by default the
    messages."""
    return Problem(
        422,
        detail or "; ".join(message for _, message, _ in errors),
        slug=ProblemType.VALIDATION_ERROR,
        title="Invalid request",
        errors=[{"loc": loc, "msg": msg, "type": kind} for loc, msg, kind in errors],
    )


def body_too_large(limit: int) -> Problem:
    return Problem(413, f"The request body exceeds {limit} bytes", slug=ProblemType.BODY_TOO_LARGE)


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
    return invalid_request(_validation_errors(exc)).to_response(request.url.path)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    slug: ProblemType | None = None
    if detail == HTTPStatus(exc.status_code).phrase:
        # The router's own 404 and 405 say what happened, like every other problem.
        detail, slug = _routing_detail(request, exc.status_code, headers)
    problem = Problem(exc.status_code, detail, slug=slug, headers=headers)
    return problem.to_response(request.url.path)


def _routing_detail(
    request: Request, status: int, headers: dict[str, str]
) -> tuple[str | None, ProblemType | None]:
    if status == 404:
        return f"Nothing is served at {request.url.path}", ProblemType.NOT_FOUND
    if status == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        detail = f"{request.method} is not allowed on {request.url.path}"
        return (
            f"{detail}; allowed: {allowed}" if allowed else detail
        ), ProblemType.METHOD_NOT_ALLOWED
    return None, None


def peer_unavailable(exc: PeerUnavailable) -> Problem:
    return Problem(
        503,
        f"The {exc.service} service is unavailable ({exc.reason}); try again shortly",
        slug=ProblemType.DEPENDENCY_UNAVAILABLE,
        headers={"Retry-After": "2"},
        service=exc.service,
    )


async def _on_peer_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PeerUnavailable)
    return peer_unavailable(exc).to_response(request.url.path)


async def _on_invalid_cursor(request: Request, exc: Exception) -> Response:
    problem = Problem(400, "The cursor is not valid", slug=ProblemType.BAD_CURSOR)
    return problem.to_response(request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(PeerUnavailable, _on_peer_unavailable)
    app.add_exception_handler(InvalidCursor, _on_invalid_cursor)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    # Unexpected errors become a 500 problem in RequestContextMiddleware (middleware.py).
