"""What the inventory's routes declare."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from ticketing_common.problems import Problem, unauthorized
from ticketing_common.resources import resource
from ticketing_common.security import InvalidToken, Principal, TokenVerifier

from ticketing_inventory.ids import EVENT_ID_PATTERN
from ticketing_inventory.store import Inventory


async def _inventory(conn: HTTPConnection) -> Inventory:  # async: sync ones run in a thread pool
    inventory: Inventory = conn.app.state.inventory
    return inventory


InventoryService = Annotated[Inventory, Depends(_inventory)]
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="The event's id")]
HoldId = Annotated[str, Path(max_length=200, description="The hold's id")]

# The hold route reads its inputs itself (see api.create_hold); these do what FastAPI would.


class DirectRoute(APIRoute):
    """A route whose endpoint takes the Request and returns the Response itself. FastAPI still
    documents it (from `response_model`, `responses` and `openapi_extra`), but per request it
    only calls the endpoint: no parameter solving, body decoding or response serialisation."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


M = TypeVar("M", bound=BaseModel)
MAX_HOLD_BODY_BYTES = 16 * 1024
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
EVENT_ID_PARAMETER: dict[str, Any] = {
    "name": "event_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": EVENT_ID_PATTERN},
}
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Replays the first response for the same key and body",
}


def path_event_id(request: Request) -> str:
    event_id: str = request.path_params["event_id"]
    if not _EVENT_ID.match(event_id):
        error = {
            "type": "string_pattern_mismatch",
            "loc": ("path", "event_id"),
            "msg": f"String should match pattern '{EVENT_ID_PATTERN}'",
            "input": event_id,
        }
        raise RequestValidationError([error])
    return event_id


async def bearer_user(request: Request) -> Principal:
    """The caller, as CurrentUser would resolve it (401 without a valid bearer token)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        raise unauthorized("This endpoint needs a bearer token")
    try:
        return await resource(request, TokenVerifier).verify(credentials)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc


async def small_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) past `limit` bytes: the service-wide limit is sized for layouts."""
    too_large = Problem(413, f"The request body exceeds {limit} bytes", slug="body-too-large")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = await request.body()  # cached: the idempotency key's check reads it again
    if len(body) > limit:  # a chunked body (no Content-Length)
        raise too_large
    return body


def parse_body(model: type[M], raw: bytes) -> M:
    """Validate a JSON body straight from bytes (pydantic-core parses it); errors answer like a
    declared body would: 400 for malformed JSON, 422 with `errors` otherwise."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None
