"""Which events' waiting rooms are on (read from the events service), the admission loop that
runs them, and the guard that holds and bookings of those events pass at the edge."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import aiohttp
import orjson
from fastapi import FastAPI
from ticketing_common.contracts import WaitingRooms
from ticketing_common.ids import event_of_hold
from ticketing_common.internal import SERVICE_TOKEN_HEADER
from ticketing_common.problems import Problem, ProblemType

from ticketing_api_gateway.admission import AdmissionKeys, InvalidAdmission
from ticketing_api_gateway.upstreams import Upstreams
from ticketing_api_gateway.waiting_room import RoomConfig, RoomUnavailable, WaitingRoom

log = logging.getLogger(__name__)

ADMISSION_HEADER = b"x-admission-token"
# The public routes that create holds or bookings. Every hold, seated or standing, is made by
# the first; a booking names its hold in the body (the hold id names its event).
HOLDS_PATH = re.compile(r"^/api/v1/inventory/events/([^/]+)/holds$")
RELEASE_PATH = re.compile(r"^/api/v1/inventory/holds/([^/]+)$")
BOOKINGS_PATH = "/api/v1/bookings"
UNKNOWN_RETRY_S = 5


class RoomDirectory:
    """The rooms that are on, refreshed from events every `refresh_s`. Until the first answer
    the gateway does not know which events are guarded, and refuses their holds and bookings
    (503) rather than let anyone past."""

    def __init__(
        self,
        upstreams: Upstreams,
        events_url: str,
        service_token: str,
        *,
        refresh_s: float,
        timeout_s: float = 3.0,
    ) -> None:
        self.upstreams = upstreams
        self.url = f"{events_url.rstrip('/')}/internal/waiting-rooms"
        self.service_token = service_token
        self.refresh_s = refresh_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.rooms: dict[str, RoomConfig] = {}
        self.known = False
        self._failing = False

    def get(self, event_id: str) -> RoomConfig | None:
        return self.rooms.get(event_id)

    async def refresh(self) -> None:
        try:
            async with self.upstreams.session.get(
                self.url, headers={SERVICE_TOKEN_HEADER: self.service_token}, timeout=self.timeout
            ) as response:
                raw = await response.read()
                if response.status != 200:
                    raise ValueError(f"events answered {response.status}")
            answer = WaitingRooms.model_validate_json(raw)  # contracts.WAITING_ROOMS
            rooms = {}
            for item in answer.items:
                config = RoomConfig.from_settings(item.model_dump())
                rooms[config.event_id] = config
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            if not self._failing:
                self._failing = True
                log.error(
                    "waiting rooms: the events service did not say which rooms are on; "
                    "keeping the last known list",
                    extra={"error": repr(exc), "known": self.known, "rooms": len(self.rooms)},
                )
            return
        if self._failing:
            self._failing = False
            log.warning("waiting rooms: the events service answers again")
        added = set(rooms) - set(self.rooms)
        removed = set(self.rooms) - set(rooms)
        if added or removed:
            log.info(
                "waiting rooms changed",
                extra={"on": sorted(added), "off": sorted(removed), "rooms": len(rooms)},
            )
        self.rooms = rooms
        self.known = True

    async def run(self, app: FastAPI) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.refresh_s if self.known else min(self.refresh_s, 1.0))


class Admitter:
    """Every `tick_s`, admits whoever may be admitted in each open room. Every replica runs
    it; the room's script keeps the limits however many do."""

    def __init__(self, rooms: RoomDirectory, room: WaitingRoom, *, tick_s: float) -> None:
        self.rooms = rooms
        self.room = room
        self.tick_s = tick_s
        self._failing = False

    async def tick(self) -> int:
        admitted = 0
        now = self.room.now_us()
        for config in list(self.rooms.rooms.values()):
            if config.opens_at_us > now:
                continue
            try:
                count, waiting, shopping = await self.room.advance(config)
            except RoomUnavailable as exc:
                if not self._failing:
                    self._failing = True
                    log.error(
                        "waiting rooms: Redis unreachable; nobody is admitted",
                        extra={"error": str(exc)},
                    )
                return admitted
            if self._failing:
                self._failing = False
                log.warning("waiting rooms: Redis answers again; admitting")
            if count:
                admitted += count
                log.info(
                    "waiting room admitted",
                    extra={
                        "event_id": config.event_id,
                        "admitted": count,
                        "waiting": waiting,
                        "shopping": shopping,
                    },
                )
        return admitted

    async def run(self, app: FastAPI) -> None:
        while True:
            started = time.monotonic()
            await self.tick()
            await asyncio.sleep(max(0.0, self.tick_s - (time.monotonic() - started)))


def waiting_room_required(event_id: str, detail: str) -> Problem:
    return Problem(
        403,
        detail,
        slug=ProblemType.WAITING_ROOM_REQUIRED,
        title="Join the waiting room",
        event_id=event_id,
        join=f"/api/v1/waiting-room/{event_id}/join",
    )


class RoomGuard:
    """What the proxy asks about holds and bookings. Requests of events without a room on cost
    a dict lookup."""

    def __init__(self, rooms: RoomDirectory, room: WaitingRoom, keys: AdmissionKeys) -> None:
        self.rooms = rooms
        self.room = room
        self.keys = keys

    def guarded_event(self, method: str, path: str) -> str | None:
        """The event whose room guards this request, when the path alone says (holds)."""
        if method == "POST" and (match := HOLDS_PATH.match(path)):
            return match.group(1)
        return None

    def needs_body(self, method: str, path: str) -> bool:
        """A booking names its hold in the body: read it when any room is on (or unknown)."""
        return (
            method == "POST"
            and path == BOOKINGS_PATH
            and (bool(self.rooms.rooms) or not self.rooms.known)
        )

    async def admit(
        self, event_id: str, account: str | None, token: bytes | None
    ) -> Problem | None:
        """None if the request may pass; else the problem to answer."""
        if not self.rooms.known:
            return Problem(
                503,
                "The gateway does not know yet which events have a waiting room; try again shortly",
                slug=ProblemType.WAITING_ROOM_UNKNOWN,
                headers={"Retry-After": str(UNKNOWN_RETRY_S)},
            )
        config = self.rooms.get(event_id)
        if config is None or account is None:
            return None  # no room; or no account, which edge auth answers with 401 itself
        if token is None:
            return waiting_room_required(
                event_id,
                "This event's on-sale runs through a waiting room: join the queue, and shop "
                "with the admission token you get when it is your turn",
            )
        try:
            admission = self.keys.verify(
                token.decode("latin-1"),
                account=account,
                event_id=event_id,
                now_s=self.room.clock(),
            )
        except InvalidAdmission as exc:
            return waiting_room_required(event_id, f"{exc}; join the queue again")
        try:
            outcome = await self.room.check(config, admission)
        except RoomUnavailable:
            # The signature vouches for it; slots are not counted while Redis is away.
            log.warning(
                "waiting room: Redis unreachable; admission accepted on its signature",
                extra={"event_id": event_id, "jti": admission.jti},
            )
            return None
        if outcome in ("ok", "carried-over"):
            return None
        detail = {
            "ended": "Your shopping time in this waiting room has ended",
            "superseded": "This admission token was replaced by a newer one",
        }[outcome]
        return waiting_room_required(event_id, f"{detail}; join the queue again")

    async def finished(
        self, method: str, path: str, status: int, account: str | None, event_id: str | None
    ) -> None:
        """After the service answered: a booking made, or a hold released, ends the shopper's
        admission and frees their slot."""
        if account is None:
            return
        if not 200 <= status < 300:
            return
        if method == "DELETE" and (match := RELEASE_PATH.match(path)):
            event_id = event_of_hold(match.group(1))
        elif not (method == "POST" and path == BOOKINGS_PATH):
            return
        if event_id is None or (config := self.rooms.get(event_id)) is None:
            return
        try:
            await self.room.leave(config, account, left=False)
        except RoomUnavailable as exc:
            log.warning(
                "waiting room: Redis unreachable; the shopper's slot frees when their time ends",
                extra={"event_id": event_id, "error": str(exc)},
            )


def booking_event(body: bytes) -> tuple[str | None, bytes] | None:
    """The event of the hold a booking body names, and the body as the gateway read it (what is
    forwarded: the service reads exactly what was judged). None: not a JSON object."""
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict):
        return None
    hold_id = parsed.get("hold_id")
    event_id = event_of_hold(hold_id) if isinstance(hold_id, str) else None
    return event_id, orjson.dumps(parsed)
