"""The waiting room's public routes, served by the gateway itself.

The position poll is what a crowd calls every few seconds: `PollEdge` serves it as a raw ASGI
handler, like the proxy path (the gateway hands it the poll's path before the FastAPI app; the
same CORS and tracing wrap it, and it writes the proxy's access log line): one pass over the
headers, a cached token check, a local rate-limit decision, one batched Redis call. The FastAPI
route of the same path documents it (and serves it in an app without the gateway's dispatch).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Response
from starlette.types import Receive, Scope, Send
from ticketing_common.access_log import AccessLog
from ticketing_common.ids import EVENT_ID_PATTERN
from ticketing_common.logging import request_id_var
from ticketing_common.middleware import request_id_from
from ticketing_common.problems import PROBLEM, PROBLEM_JSON, Problem, ProblemType, unauthorized
from ticketing_common.resources import provided
from ticketing_common.security import (
    CurrentUser,
    InvalidToken,
    Principal,
    TokenVerifier,
    bearer_token,
)

from ticketing_api_gateway.admission import AdmissionKeys
from ticketing_api_gateway.ratelimit import RateLimiter
from ticketing_api_gateway.rooms import RoomDirectory
from ticketing_api_gateway.settings import Limit
from ticketing_api_gateway.waiting_room import RoomUnavailable, WaitingRoom, off_state

PREFIX = "/api/v1/waiting-room"
RECEIPT_HEADER = "X-Queue-Receipt"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
POLL_PATH = re.compile(r"^/api/v1/waiting-room/(?!keys$)([^/]+)$")
log = logging.getLogger(__name__)
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
    """What the routes need (`provide`d to the control app)."""

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

    async def poll(self, user: Principal, event_id: str, receipt: str | None) -> dict[str, Any]:
        _check_event_id(event_id)
        await self.limited(user)
        config = self.rooms.get(event_id)
        if config is None:
            return off_state(event_id)
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
        return answer

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


Api = Annotated[RoomApi, Depends(provided(RoomApi))]
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
    responses={401: PROBLEM, 429: PROBLEM, 503: PROBLEM},
)
async def join(event_id: str, user: CurrentUser, api: Api, receipt: Receipt = None) -> Response:
    return await api.join(user, event_id, receipt)


@router.get(
    "/{event_id}",
    summary="Your place in the event's waiting room",
    description=_STATE_DOC,
    responses={
        401: PROBLEM,
        404: PROBLEM | {"description": "`not-in-queue`: no place (join first)"},
        429: PROBLEM,
        503: PROBLEM,
    },
)
async def poll(event_id: str, user: CurrentUser, api: Api, receipt: Receipt = None) -> Response:
    # Under the gateway, PollEdge answers this path before the FastAPI app sees it.
    return _state(await api.poll(user, event_id, receipt))


@router.delete(
    "/{event_id}",
    status_code=204,
    summary="Leave the waiting room (gives up the place, or the shopping time and its slot)",
    responses={401: PROBLEM},
)
async def leave(event_id: str, user: CurrentUser, api: Api) -> Response:
    return await api.leave(user, event_id)


class PollEdge:
    """`GET /api/v1/waiting-room/{event_id}` as a raw ASGI handler (see the module's doc)."""

    def __init__(self, api: RoomApi, verifier: TokenVerifier, access_log: AccessLog) -> None:
        self.api = api
        self.verifier = verifier
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        authorization = receipt = request_id = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"x-queue-receipt":
                receipt = value
            elif name == b"x-request-id":
                request_id = value
        rid = request_id_from(request_id)
        token = request_id_var.set(rid)
        user_id: str | None = None
        status = 500
        try:
            try:
                principal = await self._principal(authorization)
                user_id = principal.user_id
                match = POLL_PATH.match(path)
                assert match is not None  # the gateway dispatches only this path here
                answer = await self.api.poll(
                    principal,
                    match.group(1),
                    receipt.decode("latin-1") if receipt is not None else None,
                )
            except Problem as problem:
                status = problem.status
                await _send(
                    send,
                    status,
                    orjson.dumps(problem.to_dict(path), default=str),
                    PROBLEM_JSON.encode(),
                    rid,
                    [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()],
                )
                return
            status = 200
            await _send(
                send,
                200,
                orjson.dumps(answer),
                b"application/json",
                rid,
                [
                    (b"retry-after", str(answer["poll_after_seconds"]).encode()),
                    (b"cache-control", b"no-store"),
                ],
            )
        except Exception:
            log.exception("waiting room poll failed", extra={"path": path})
            if status == 500:
                body = Problem(
                    500,
                    "An unexpected error occurred; it has been logged",
                    slug=ProblemType.INTERNAL,
                )
                await _send(
                    send, 500, orjson.dumps(body.to_dict(path)), PROBLEM_JSON.encode(), rid, []
                )
        finally:
            if self.access_log.enabled:
                self.access_log.write(
                    f"{scope['method']} {path} {status}",
                    {
                        "method": scope["method"],
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "user_id": user_id,
                    },
                )
            request_id_var.reset(token)

    async def _principal(self, authorization: bytes | None) -> Principal:
        token = bearer_token((authorization or b"").decode("latin-1"))
        if token is None:
            raise unauthorized("This endpoint needs a bearer token")
        try:
            return await self.verifier.verify(token)
        except InvalidToken as exc:
            raise unauthorized(str(exc)) from exc


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    request_id: str,
    headers: list[tuple[bytes, bytes]],
) -> None:
    headers += [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
