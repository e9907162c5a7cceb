"""The waiting room's public routes, served by the gateway itself.

The position poll is what a crowd calls every few seconds: `PollFastPath` serves it ahead of
FastAPI's router (inside the app's middleware, so request ids, the access log and CORS still
apply), with a cached token check, a local rate-limit decision and one batched Redis call.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from ticketing_common.ids import EVENT_ID_PATTERN
from ticketing_common.problems import Problem, ProblemType, unauthorized
from ticketing_common.security import CurrentUser, InvalidToken, Principal, TokenVerifier

from ticketing_api_gateway.admission import AdmissionKeys
from ticketing_api_gateway.ratelimit import RateLimiter
from ticketing_api_gateway.rooms import RoomDirectory
from ticketing_api_gateway.settings import Limit
from ticketing_api_gateway.waiting_room import RoomUnavailable, WaitingRoom, off_state

PREFIX = "/api/v1/waiting-room"
RECEIPT_HEADER = "X-Queue-Receipt"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_POLL_PATH = re.compile(r"^/api/v1/waiting-room/(?!keys$)([^/]+)$")
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_STATE_DOC = (
    "`state`: `off` (no room: shop directly), `waiting` (with `position`, `people_ahead` and "
    "`estimated_wait_seconds` once the opening has drawn the order; before it, position is null "
    "and the wait is the time to the opening), `admitted` (with `admission_token`, to send as "
    "`X-Admission-Token` on holds and bookings of the event, and `admitted_until`) or "
    "`expired` (the shopping time ended, or the booking was made: join again to queue anew). "
    "Ask again after `poll_after_seconds` (also `Retry-After`). While waiting, `receipt` is the "
    "place: send it back as `X-Queue-Receipt`, and should the room lose its state, the place "
    "is given back."
)

router = APIRouter(prefix=PREFIX, tags=["waiting room"])


class RoomApi:
    """What the routes need, on `app.state.waiting_room_api`."""

    def __init__(
        self,
        rooms: RoomDirectory,
        room: WaitingRoom,
        keys: AdmissionKeys,
        limiter: RateLimiter,
        limit: Limit,
    ) -> None:
        self.rooms = rooms
        self.room = room
        self.keys = keys
        self.limiter = limiter
        self.limit = limit
        self.jwks = orjson.dumps(keys.jwks)

    async def limited(self, user: Principal) -> None:
        decision = await self.limiter.admit(f"waiting-room:user:{user.user_id}", self.limit)
        if not decision.admitted:
            raise Problem(
                429,
                f"Too many requests; retry in {decision.retry_after_s} seconds",
                slug=ProblemType.RATE_LIMITED,
                headers={"Retry-After": str(decision.retry_after_s)},
            )

    async def join(self, user: Principal, event_id: str, receipt: str | None) -> Response:
        _check_event_id(event_id)
        await self.limited(user)
        config = self.rooms.get(event_id)
        if config is None:
            return _state(off_state(event_id))
        try:
            return _state(await self.room.join(config, user.user_id, receipt))
        except RoomUnavailable as exc:
            raise _unavailable() from exc

    async def poll(self, user: Principal, event_id: str, receipt: str | None) -> Response:
        _check_event_id(event_id)
        await self.limited(user)
        config = self.rooms.get(event_id)
        if config is None:
            return _state(off_state(event_id))
        try:
            answer = await self.room.poll(config, user.user_id, receipt)
        except RoomUnavailable as exc:
            raise _unavailable() from exc
        if answer is None:
            raise Problem(
                404,
                "You have no place in this event's waiting room: join it to get one (if you "
                "had one and sent no receipt, the room may have lost it)",
                slug=ProblemType.NOT_IN_QUEUE,
                join=f"{PREFIX}/{event_id}/join",
            )
        return _state(answer)

    async def leave(self, user: Principal, event_id: str) -> Response:
        _check_event_id(event_id)
        config = self.rooms.get(event_id)
        if config is not None:
            try:
                await self.room.leave(config, user.user_id, left=True)
            except RoomUnavailable as exc:
                raise _unavailable() from exc
        return Response(status_code=204)


def _check_event_id(event_id: str) -> None:
    if not _EVENT_ID.match(event_id):
        raise Problem(404, f"Event {event_id!r} does not exist", slug=ProblemType.NOT_FOUND)


def _state(answer: dict[str, Any]) -> Response:
    return Response(
        orjson.dumps(answer),
        media_type="application/json",
        headers={
            "Retry-After": str(answer["poll_after_seconds"]),
            "Cache-Control": "no-store",
        },
    )


def _unavailable() -> Problem:
    return Problem(
        503,
        "The waiting room cannot be reached right now; your place is kept, ask again shortly",
        slug=ProblemType.WAITING_ROOM_UNAVAILABLE,
        headers={"Retry-After": "2"},
    )


def _api(request: Request) -> RoomApi:
    api: RoomApi = request.app.state.waiting_room_api
    return api


Api = Annotated[RoomApi, Depends(_api)]
Receipt = Annotated[
    str | None,
    Header(
        alias=RECEIPT_HEADER,
        max_length=200,
        description="The `receipt` of an earlier answer: gives the place back should the room "
        "have lost it",
    ),
]


@router.get(
    "/keys",
    summary="The public keys that sign admission tokens (JWKS; EdDSA / Ed25519)",
    description="Admission tokens are JWTs: `sub` the account, `evt` the event, `jti`, `exp` "
    "the end of the shopping time. Verify them offline with these keys.",
)
async def keys(api: Api) -> Response:
    return Response(
        api.jwks, media_type="application/json", headers={"Cache-Control": "public, max-age=300"}
    )


@router.post(
    "/{event_id}/join",
    summary="Take a place in the event's waiting room (or see the one you have)",
    description="One place per account: joining again, from another tab or device, answers the "
    "same place. " + _STATE_DOC,
    responses={401: _PROBLEM, 429: _PROBLEM, 503: _PROBLEM},
)
async def join(event_id: str, user: CurrentUser, api: Api, receipt: Receipt = None) -> Response:
    return await api.join(user, event_id, receipt)


@router.get(
    "/{event_id}",
    summary="Your place in the event's waiting room",
    description=_STATE_DOC,
    responses={
        401: _PROBLEM,
        404: _PROBLEM | {"description": "`not-in-queue`: no place (join first)"},
        429: _PROBLEM,
        503: _PROBLEM,
    },
)
async def poll(request: Request) -> Response:
    # Served by PollFastPath; it reads its own inputs (as the declared dependencies would).
    principal = await _bearer_user(request)
    match = _POLL_PATH.match(request.url.path)
    assert match is not None
    return await _api(request).poll(principal, match.group(1), request.headers.get(RECEIPT_HEADER))


@router.delete(
    "/{event_id}",
    status_code=204,
    summary="Leave the waiting room (gives up the place, or the shopping time and its slot)",
    responses={401: _PROBLEM},
)
async def leave(event_id: str, user: CurrentUser, api: Api) -> Response:
    return await api.leave(user, event_id)


async def _bearer_user(request: Request) -> Principal:
    authorization = request.headers.get("authorization")
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise unauthorized("This endpoint needs a bearer token")
    verifier: TokenVerifier = request.app.state.tokens
    try:
        return await verifier.verify(credentials.strip())
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc


class PollFastPath:
    """Serves `GET /api/v1/waiting-room/{event_id}` straight to its endpoint: no router, no
    dependency machinery (the route stays an ordinary, documented FastAPI route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and _POLL_PATH.match(scope["path"])
        ):
            try:
                response = await poll(Request(scope, receive, send))
            except Problem as problem:
                response = problem.to_response(scope["path"])
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
