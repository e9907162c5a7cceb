"""The inventory in Redis: every operation is one Lua script call on one event's keys. This
module turns answers into results and refusals into problems; the rules live in the scripts."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from ticketing_common.contracts import BookedHold, Claim, SoldIn
from ticketing_common.problems import Problem, ProblemType, conflict, not_found
from ticketing_common.redis import AnyRedis

from ticketing_inventory.availability import SeatIds, decode_availability, decode_bits
from ticketing_inventory.ids import event_of_hold, new_hold_id
from ticketing_inventory.keys import (
    EVENTS_KEY,
    event_keys,
    hold_key,
    hold_keys,
    user_holds_key,
)
from ticketing_inventory.layout import PreparedLayout, prepare_holds, prepare_sold
from ticketing_inventory.scripts import Arg, ScriptCaller, Scripts

SEAT_ID_CACHE_EVENTS = 32  # events whose seat ids (up to megabytes each) a process keeps


@dataclass(frozen=True, slots=True)
class Limits:
    hold_ttl_ms: int
    max_seats_per_hold: int
    max_active_holds_per_user: int
    record_ttl_ms: int  # how long a hold record outlives its TTL


@dataclass(frozen=True, slots=True)
class HoldView:
    hold_id: str
    event_id: str
    user_id: str
    seat_ids: list[str]
    section_id: str | None
    quantity: int
    expires_ms: int
    status: str  # held | expired | released | confirmed
    booking_id: str | None

    @property
    def expires_at(self) -> str:
        """RFC 3339 UTC, as pydantic writes datetimes (so the hold path, which writes this, and
        the routes that answer through the `Hold` model agree): microseconds, none on a whole
        second, Z."""
        seconds, millis = divmod(self.expires_ms, 1000)
        fraction = f".{millis:03d}000" if millis else ""
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + fraction + "Z"

    def public(self) -> dict[str, Any]:
        """The API's `Hold`."""
        return {
            "hold_id": self.hold_id,
            "event_id": self.event_id,
            "user_id": self.user_id,
            "seat_ids": self.seat_ids,
            "section_id": self.section_id,
            "quantity": self.quantity,
            "expires_at": self.expires_at,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Rebuilt:
    sold: int  # seats and places
    status: str
    holds_restored: int
    holds_skipped: list[str]


@dataclass(frozen=True, slots=True)
class Repairs:
    """What a reconciliation changed (and saw) in one event."""

    added: list[str] = field(default_factory=list)  # bookings whose sale was missing
    bits_fixed: int = 0  # sold seats that had lost their sold bit
    extra: list[str] = field(default_factory=list)  # sales no booking holds durably (kept, yet)
    released: list[str] = field(default_factory=list)  # such sales released now
    unknown: list[str] = field(default_factory=list)  # bookings naming seats the layout lacks

    @property
    def changed(self) -> bool:
        return bool(self.added or self.bits_fixed or self.released)


def unknown_event(event_id: str) -> Problem:
    return Problem(404, f"Event {event_id!r} has no inventory", slug=ProblemType.UNKNOWN_EVENT)


class StateWatcher:
    """Told about events' state: what a request about an event without state is answered (here:
    404; the healer answers 503 for an event that should have state and rebuilds it), and which
    events were initialised."""

    def missing_state(self, event_id: str) -> Problem:
        return unknown_event(event_id)

    def initialised(self, event_id: str, status: str) -> None:
        """The event's state was just created."""


def unknown_hold(hold_id: str) -> Problem:
    return not_found("Hold", hold_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _texts(values: list[Any]) -> list[str]:
    return [_text(value) for value in values]


class Inventory:
    def __init__(
        self, redis: AnyRedis, scripts: Scripts, call: ScriptCaller, limits: Limits
    ) -> None:
        self.redis = redis
        self.scripts = scripts
        self.call = call
        self.limits = limits
        self._seat_ids: OrderedDict[str, SeatIds] = OrderedDict()  # per event, bounded
        self.watcher = StateWatcher()

    # Holds -------------------------------------------------------------------------------------

    def _hold_args(self, hold_id: str, user_id: str) -> list[Arg]:
        limits = self.limits
        return [
            hold_id,
            user_id,
            limits.hold_ttl_ms,
            limits.max_active_holds_per_user,
            limits.record_ttl_ms,
        ]

    def check_hold_size(self, quantity: int) -> None:
        if quantity > self.limits.max_seats_per_hold:
            raise Problem(
                422,
                f"A hold takes at most {self.limits.max_seats_per_hold} seats or places",
                slug=ProblemType.TOO_MANY_SEATS,
                limit=self.limits.max_seats_per_hold,
            )

    async def hold_seats(self, event_id: str, user_id: str, seat_ids: list[str]) -> HoldView:
        self.check_hold_size(len(seat_ids))
        hold_id = new_hold_id(event_id)
        args: list[Arg] = [*self._hold_args(hold_id, user_id), orjson.dumps(seat_ids), *seat_ids]
        keys = hold_keys(event_id, hold_id, user_id)
        reply = await self.call(self.scripts.hold_seats, keys, args)
        self._raise_refusal(reply, event_id)
        return HoldView(
            hold_id, event_id, user_id, seat_ids, None, len(seat_ids), int(reply[1]), "held", None
        )

    async def hold_standing(
        self, event_id: str, user_id: str, section_id: str, quantity: int
    ) -> HoldView:
        self.check_hold_size(quantity)
        hold_id = new_hold_id(event_id)
        args: list[Arg] = [*self._hold_args(hold_id, user_id), section_id, quantity]
        keys = hold_keys(event_id, hold_id, user_id)
        reply = await self.call(self.scripts.hold_standing, keys, args)
        self._raise_refusal(reply, event_id, section_id)
        return HoldView(
            hold_id, event_id, user_id, [], section_id, quantity, int(reply[1]), "held", None
        )

    def _raise_refusal(self, reply: list[Any], event_id: str, section_id: str = "") -> None:
        outcome = reply[0]
        if outcome == b"held":
            return
        if outcome == b"unavailable":
            unavailable = _texts(reply[1])
            what = "places" if section_id else "seats"
            raise conflict(
                f"Some {what} are not available; nothing was held",
                slug=ProblemType.SEATS_UNAVAILABLE,
                unavailable=unavailable,
                **({"available": int(reply[2])} if section_id else {}),
            )
        if outcome == b"unknown-event":
            raise self.watcher.missing_state(event_id)
        if outcome == b"unknown-seats":
            unknown = _texts(reply[1])
            raise Problem(
                404, "Some seats do not exist", slug=ProblemType.UNKNOWN_SEATS, unknown=unknown
            )
        if outcome == b"unknown-section":
            raise Problem(
                404, f"Section {section_id!r} does not exist", slug=ProblemType.UNKNOWN_SECTION
            )
        if outcome == b"not-standing":
            raise Problem(
                422,
                f"Section {section_id!r} is seated: hold its seats by seat_ids",
                slug=ProblemType.NOT_STANDING,
            )
        if outcome == b"closed":
            raise conflict("This event takes no new holds", slug=ProblemType.EVENT_CLOSED)
        if outcome == b"too-many-holds":
            limit = self.limits.max_active_holds_per_user
            raise conflict(
                f"You already have {int(reply[1])} active holds on this event (the limit is "
                f"{limit}); release one or let it expire",
                slug=ProblemType.TOO_MANY_HOLDS,
                limit=limit,
            )
        raise RuntimeError(f"unexpected answer from the hold script: {reply!r}")

    async def hold(self, hold_id: str) -> HoldView:
        event_id = event_of_hold(hold_id)
        if event_id is None:
            raise unknown_hold(hold_id)
        keys = [*event_keys(event_id), hold_key(event_id, hold_id)]
        record, generation, now = await self.call(self.scripts.hold_view, keys, [])
        if not record:
            if not generation:  # the event has no state: the record may be lost with it
                problem = self.watcher.missing_state(event_id)
                if problem.status != 404:
                    raise problem
            raise unknown_hold(hold_id)
        fields = dict(zip(record[::2], record[1::2], strict=True))
        status = _text(fields[b"status"])
        expires = int(fields[b"expires"])
        if status == "held" and (expires <= int(now) or fields[b"gen"] != generation):
            status = "expired"
        section = fields.get(b"section")
        booking = fields.get(b"booking")
        return HoldView(
            hold_id=hold_id,
            event_id=event_id,
            user_id=_text(fields[b"user"]),
            seat_ids=orjson.loads(fields[b"seats"]),
            section_id=_text(section) if section is not None else None,
            quantity=int(fields[b"quantity"]),
            expires_ms=expires,
            status=status,
            booking_id=_text(booking) if booking is not None else None,
        )

    async def owned_hold(self, hold_id: str, user_id: str) -> HoldView:
        """The hold, if `user_id` owns it; anyone else learns nothing (404)."""
        hold = await self.hold(hold_id)
        if hold.user_id != user_id:
            raise unknown_hold(hold_id)
        return hold

    async def release(self, hold_id: str, owner: str | None) -> None:
        """Release a hold (`owner` None: a service call, any owner). Idempotent."""
        event_id = event_of_hold(hold_id)
        if event_id is None:
            raise unknown_hold(hold_id)
        # The owner's list of holds is a key of its own: a service call learns the owner first.
        user_id = owner if owner is not None else (await self.hold(hold_id)).user_id
        keys = hold_keys(event_id, hold_id, user_id)
        (outcome, *_) = await self.call(self.scripts.release, keys, [hold_id, owner or ""])
        if outcome == b"unknown-hold":
            raise unknown_hold(hold_id)
        if outcome == b"confirmed":
            raise conflict(
                "This hold was confirmed: its seats are sold (release-sold gives them back)",
                slug=ProblemType.HOLD_CONFIRMED,
            )

    async def confirm(
        self, hold_id: str, booking_id: str, claim: Claim | None = None
    ) -> tuple[HoldView, bool]:
        """Held -> sold for `booking_id`; returns the hold and whether it had to be re-claimed.
        `claim` (what the booking says the hold held) confirms a hold whose record was lost."""
        try:
            before = await self.hold(hold_id)
        except Problem as problem:
            if problem.status != 404 or claim is None:
                raise
            before = self._claimed(hold_id, claim)
        event_id = before.event_id
        keys = hold_keys(event_id, hold_id, before.user_id)
        args: list[Arg] = [hold_id, booking_id, self.limits.record_ttl_ms]
        if claim is not None:
            args += [
                claim.user_id,
                orjson.dumps(claim.seat_ids),
                claim.section_id or "",
                claim.quantity,
            ]
        else:
            args.append("")
        reply = await self.call(self.scripts.confirm, keys, args)
        outcome = reply[0]
        if outcome == b"confirmed":
            return before, reply[1] == b"1"
        if outcome == b"unknown-hold":
            raise unknown_hold(hold_id)
        if outcome == b"taken":
            raise conflict(
                "The hold expired and some of its seats were taken since; nothing was sold",
                slug=ProblemType.SEATS_TAKEN,
                unavailable=_texts(reply[1]),
            )
        if outcome == b"released":
            raise conflict("The hold was released", slug=ProblemType.HOLD_RELEASED)
        if outcome == b"confirmed-elsewhere":
            raise conflict(
                "The hold is confirmed for another booking",
                slug=ProblemType.HOLD_CONFIRMED_ELSEWHERE,
            )
        if outcome == b"closed":
            raise conflict(
                "The hold expired and the event takes no new holds", slug=ProblemType.EVENT_CLOSED
            )
        if outcome == b"unknown-event":
            raise self.watcher.missing_state(event_id)
        raise RuntimeError(f"unexpected answer from the confirm script: {reply!r}")

    @staticmethod
    def _claimed(hold_id: str, claim: Claim) -> HoldView:
        """A lost hold, as its booking describes it."""
        event_id = event_of_hold(hold_id)
        if event_id is None:
            raise unknown_hold(hold_id)
        return HoldView(
            hold_id=hold_id,
            event_id=event_id,
            user_id=claim.user_id,
            seat_ids=list(claim.seat_ids),
            section_id=claim.section_id,
            quantity=claim.quantity,
            expires_ms=0,
            status="expired",
            booking_id=None,
        )

    # Event state -------------------------------------------------------------------------------

    @staticmethod
    def _layout_args(layout: PreparedLayout, *more: Arg) -> list[Arg]:
        """What layout.lua reads: five fixed arguments, `more`, then (seat id, packed) pairs."""
        pairs: list[Arg] = []
        for index, seat_id in enumerate(layout.seat_ids):
            pairs += (seat_id, layout.packed(index))
        return [
            layout.digest,
            uuid.uuid4().hex,  # the generation: holds of an earlier one have lapsed
            layout.sections_json(),
            layout.capacity,
            "\n".join(layout.seat_ids),
            *more,
            *pairs,
        ]

    # Layout writes go straight to Redis, not through the batcher: a large venue's layout is
    # megabytes of arguments that should not hold up the holds queued with it.

    async def init_layout(self, event_id: str, layout: PreparedLayout) -> bool:
        """Initialise once; True if created, False if this very layout was there already."""
        args = self._layout_args(layout)
        (outcome,) = await self.scripts.init(keys=event_keys(event_id), args=args)
        if outcome == b"mismatch":
            raise conflict(
                "This event's inventory was initialised with a different layout",
                slug=ProblemType.LAYOUT_MISMATCH,
            )
        await self.redis.sadd(EVENTS_KEY, event_id)
        self.watcher.initialised(event_id, "open")
        return bool(outcome == b"created")

    async def rebuild(
        self,
        event_id: str,
        layout: PreparedLayout,
        sold: list[SoldIn],
        holds: Sequence[BookedHold] = (),
        *,
        only_if_missing: bool = False,
        status: str | None = None,
    ) -> Rebuilt | None:
        """Re-create the event from its layout, its sales and the holds its pending bookings
        were made from. `only_if_missing`: only if the event has no state (None if it has);
        `status` (open/closed): else the current one is kept."""
        entries = prepare_holds(layout, list(holds))
        keys: list[bytes] = list(event_keys(event_id))
        for hold_id, user_id, *_ in entries:
            keys += [hold_key(event_id, str(hold_id)), user_holds_key(event_id, str(user_id))]
        args = self._layout_args(
            layout,
            orjson.dumps(prepare_sold(layout, sold)),
            orjson.dumps(entries),
            "if-missing" if only_if_missing else "force",
            status or "",
            self.limits.record_ttl_ms,
        )
        reply = await self.scripts.rebuild(keys=keys, args=args)
        if reply[0] == b"exists":
            return None
        await self.redis.sadd(EVENTS_KEY, event_id)
        self._seat_ids.pop(event_id, None)
        self.watcher.initialised(event_id, _text(reply[1]))
        places = sum(
            len(sale.seat_ids) + (sale.quantity if sale.section_id else 0) for sale in sold
        )
        unrestorable = {h.hold_id for h in holds} - {str(entry[0]) for entry in entries}
        skipped = sorted(unrestorable | set(_texts(reply[3])))
        return Rebuilt(places, _text(reply[1]), int(reply[2]), skipped)

    async def reconcile(
        self, event_id: str, sold: list[SoldIn], keep: Sequence[str], release: Sequence[str]
    ) -> Repairs | None:
        """Repair the event's sales against booking's truth (see reconcile.lua); None when the
        event has no state (a rebuild's job)."""
        truth = [
            [sale.booking_id, sale.seat_ids, sale.section_id or "", sale.quantity] for sale in sold
        ]
        args: list[Arg] = [
            orjson.dumps(truth),
            orjson.dumps(list(keep)),
            orjson.dumps(list(release)),
        ]
        reply = await self.scripts.reconcile(keys=event_keys(event_id), args=args)
        if reply[0] == b"unknown-event":
            return None
        if reply[2] or reply[4]:
            self._seat_ids.pop(event_id, None)
        return Repairs(
            added=_texts(reply[1]),
            bits_fixed=int(reply[2]),
            extra=_texts(reply[3]),
            released=_texts(reply[4]),
            unknown=_texts(reply[5]),
        )

    async def has_state(self, event_ids: Sequence[str]) -> dict[str, bool]:
        """Whether each event has state in Redis (one pipeline)."""
        pipe = self.redis.pipeline(transaction=False)
        for event_id in event_ids:
            pipe.exists(event_keys(event_id)[0])
        found = await pipe.execute()
        return {event_id: bool(n) for event_id, n in zip(event_ids, found, strict=True)}

    async def close(self, event_id: str) -> None:
        (outcome,) = await self.call(self.scripts.close, event_keys(event_id), [])
        if outcome == b"unknown-event":
            raise self.watcher.missing_state(event_id)

    async def release_sold(
        self,
        event_id: str,
        booking_id: str,
        seat_ids: list[str],
        section_id: str | None,
        quantity: int,
    ) -> tuple[list[str], int]:
        args: list[Arg] = [booking_id, section_id or "", quantity if section_id else 0, *seat_ids]
        reply = await self.call(self.scripts.release_sold, event_keys(event_id), args)
        outcome = reply[0]
        if outcome == b"released":
            return _texts(reply[1]), int(reply[2])
        if outcome == b"unknown-event":
            raise self.watcher.missing_state(event_id)
        if outcome == b"unknown-seats":
            raise Problem(
                404,
                "Some seats do not exist",
                slug=ProblemType.UNKNOWN_SEATS,
                unknown=_texts(reply[1]),
            )
        if outcome == b"unknown-section":
            raise Problem(
                404, f"{section_id!r} is not a standing section", slug=ProblemType.UNKNOWN_SECTION
            )
        raise RuntimeError(f"unexpected answer from the release-sold script: {reply!r}")

    async def availability(self, event_id: str, with_seats: bool) -> dict[str, Any]:
        cached = self._seat_ids.get(event_id)
        args = ["seats" if with_seats else "0", cached.digest if cached else ""]
        reply = await self.call(self.scripts.availability, event_keys(event_id), args)
        if reply[0] == b"unknown-event":
            raise self.watcher.missing_state(event_id)
        answer, seat_ids = decode_availability(event_id, reply, cached)
        if seat_ids is not None and seat_ids is not cached:
            self._seat_ids[event_id] = seat_ids
            self._seat_ids.move_to_end(event_id)
            if len(self._seat_ids) > SEAT_ID_CACHE_EVENTS:
                self._seat_ids.popitem(last=False)
        return answer

    async def availability_bits(self, event_id: str) -> dict[str, Any]:
        """The counts and every seat's state as two bitmaps (availability.decode_bits)."""
        reply = await self.call(self.scripts.availability, event_keys(event_id), ["bits", ""])
        if reply[0] == b"unknown-event":
            raise self.watcher.missing_state(event_id)
        return decode_bits(event_id, reply)

    async def sweep(self, event_id: str, batch: int) -> int:
        """Tidy one event; returns how many expired claims it dropped."""
        tidied = await self.call(self.scripts.sweep, event_keys(event_id), [batch])
        return int(tidied)

    async def events(self) -> list[str]:
        members = await self.redis.smembers(EVENTS_KEY)
        return sorted(_text(member) for member in members)
