"""Self-healing: inventory notices when Redis has lost an event's state and rebuilds it without a
person, and a reconciler repairs what a partial loss got wrong.

- **Noticing.** The watcher lists the events that went on sale (from events, every
  `EVENTS_REFRESH_S`) and checks every second that each has state in Redis. A total loss also
  removes the epoch key (`inv:epoch`, set once every event has state): its absence is noticed on
  the next tick and the list is fetched again at once.
- **Rebuilding.** An event without state is rebuilt from its layout (events) and booking's durable
  truth: what is sold (the DynamoDB seat claims) and the holds of bookings awaiting payment (they
  come back with their seats). Other holds are lost; a booking made from one re-claims its seats
  at payment if they are still free. The rebuild runs only while the event still has no state,
  so replicas that notice the same loss cannot undo each other's holds.
- **Meanwhile** holds, availability and hold reads of that event answer 503 with `Retry-After`
  (never 404, never a sold seat as free), and `/ready` says `degraded`.
- **Reconciling.** Every `RECONCILE_INTERVAL_S` one replica compares each event's sales with
  booking's truth (reconcile.lua) and logs what it repaired.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from ticketing_common.problems import Problem, ProblemType
from ticketing_common.resources import Degraded, Resource

from ticketing_inventory.clients import BookingClient, EventsClient
from ticketing_inventory.keys import EPOCH_KEY, RECONCILER_LOCK_KEY
from ticketing_inventory.layout import prepare_layout
from ticketing_inventory.store import Inventory, Rebuilt, Repairs, StateWatcher, unknown_event

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 30.0


class NotOnSale(Exception):
    """Events says this event never went on sale: there is nothing to rebuild."""


@dataclass(frozen=True, slots=True)
class HealerSettings:
    interval_s: float
    events_refresh_s: float
    reconcile_interval_s: float
    reconcile_grace_s: float
    retry_after_s: int
    concurrency: int


def rebuilding(event_id: str, retry_after_s: int) -> Problem:
    return Problem(
        503,
        f"The seat inventory of event {event_id!r} is being rebuilt; try again in a moment",
        slug=ProblemType.INVENTORY_REBUILDING,
        headers={"Retry-After": str(retry_after_s)},
        retry_after=retry_after_s,
    )


class Healer(Resource, StateWatcher):
    """Also a resource, so that `/ready` reports what it is doing (degraded while rebuilding)."""

    name = "state"

    def __init__(
        self, events: EventsClient, booking: BookingClient, settings: HealerSettings
    ) -> None:
        self.events = events
        self.booking = booking
        self.settings = settings
        self.known: dict[str, str] | None = None  # event -> open | closed; None: not listed yet
        self.listed_at = 0.0
        self.missing: set[str] = set()
        self.rebuilding: dict[str, asyncio.Task[None]] = {}
        self._retry: dict[str, tuple[int, float]] = {}  # event -> (failures, next try)
        self._extra: dict[str, dict[str, float]] = {}  # event -> booking -> first seen extra
        self._epoch_seen = False
        self._lost_since: float | None = None
        self._warned_at = -float("inf")
        self._limit = asyncio.Semaphore(settings.concurrency)
        self._inventory: Inventory | None = None

    def attach(self, inventory: Inventory) -> None:
        """Watch `inventory` (made at startup, once Redis is connected) and answer for it."""
        self._inventory = inventory
        inventory.watcher = self

    @property
    def inventory(self) -> Inventory:
        if self._inventory is None:
            raise RuntimeError("the healer watches no inventory yet")
        return self._inventory

    # What requests hear -------------------------------------------------------------------

    def missing_state(self, event_id: str) -> Problem:
        """The answer for a request about an event without state in Redis."""
        if self.known is not None and event_id not in self.known:
            return unknown_event(event_id)
        if self.known is not None:
            self.kick(event_id)  # sooner than the next tick
        # Unlisted (events has not answered yet): it may be on sale, so nothing is denied.
        return rebuilding(event_id, self.settings.retry_after_s)

    def initialised(self, event_id: str, status: str) -> None:
        # Known at once here (events initialises inventory before it publishes; the next listing
        # says so to every replica).
        if self.known is not None:
            self.known[event_id] = status

    async def check(self) -> None:
        if self._inventory is None:
            return  # still starting
        if self.known is None:
            raise Degraded("the events service has not said yet which events inventory must hold")
        pending = sorted(self.missing | set(self.rebuilding))
        if pending:
            shown = ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else "")
            raise Degraded(f"rebuilding the state of {len(pending)} events after a loss: {shown}")

    # Noticing -----------------------------------------------------------------------------

    async def watch(self, app: FastAPI | None = None) -> None:
        """Background loop: notice missing state, start rebuilds."""
        failing = False
        while True:
            try:
                await self.tick()
                if failing:
                    log.warning("inventory state checks work again")
                failing = False
            except Exception as exc:  # Redis down: said once, retried every tick
                if not failing:
                    log.warning("inventory state check failed", extra={"error": repr(exc)})
                failing = True
            await asyncio.sleep(self.settings.interval_s)

    async def tick(self) -> None:
        redis = self.inventory.redis
        now = time.monotonic()
        epoch = await redis.get(EPOCH_KEY)
        if epoch is None and self._epoch_seen:
            log.error("inventory's Redis lost its data (the epoch key is gone); rebuilding events")
            self._epoch_seen = False
            self._lost_since = now
        stale = now - self.listed_at >= self.settings.events_refresh_s
        if self.known is None or epoch is None or stale:
            try:
                self.known = await self.events.events()
                self.listed_at = now
            except Exception as exc:
                if now - self._warned_at >= self.settings.events_refresh_s:  # not every tick
                    log.warning("cannot list the events on sale", extra={"error": repr(exc)})
                    self._warned_at = now
                if self.known is None:
                    return
        known = self.known
        assert known is not None
        present = await self.inventory.has_state(list(known))
        missing = {event_id for event_id, has in present.items() if not has}
        if missing - self.missing:
            if self._lost_since is None:
                self._lost_since = now
            log.warning(
                "events have no inventory state; rebuilding them",
                extra={"events": len(missing), "first": sorted(missing)[:5]},
            )
        self.missing = missing
        for event_id in sorted(missing):
            self.kick(event_id)
        if missing or self.rebuilding:
            return
        if epoch is None:
            await redis.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
        self._epoch_seen = True
        if self._lost_since is not None:
            log.warning(
                "every event has inventory state again",
                extra={"events": len(known), "seconds": round(now - self._lost_since, 2)},
            )
            self._lost_since = None

    def kick(self, event_id: str) -> None:
        """Start rebuilding an event unless it is already, or a recent attempt failed."""
        if event_id in self.rebuilding:
            return
        _, next_try = self._retry.get(event_id, (0, 0.0))
        if time.monotonic() < next_try:
            return
        task = asyncio.get_running_loop().create_task(self._heal(event_id))
        self.rebuilding[event_id] = task
        task.add_done_callback(lambda _: self.rebuilding.pop(event_id, None))

    async def _heal(self, event_id: str) -> None:
        async with self._limit:
            started = time.perf_counter()
            try:
                rebuilt = await self.rebuild_from_truth(event_id, force=False)
            except NotOnSale:
                if self.known is not None:
                    self.known.pop(event_id, None)
                self.missing.discard(event_id)
                return
            except Exception as exc:
                failures = self._retry.get(event_id, (0, 0.0))[0] + 1
                delay = min(0.5 * 2**failures, MAX_RETRY_DELAY_S)
                self._retry[event_id] = (failures, time.monotonic() + delay)
                log.warning(
                    "rebuild failed; will retry",
                    extra={"event_id": event_id, "retry_in_s": delay, "error": repr(exc)},
                )
                return
            self._retry.pop(event_id, None)
            self.missing.discard(event_id)
            if rebuilt is not None:
                log.warning(
                    "rebuilt an event's inventory from events and booking",
                    extra={
                        "event_id": event_id,
                        "sold": rebuilt.sold,
                        "holds_restored": rebuilt.holds_restored,
                        "holds_lost": len(rebuilt.holds_skipped),
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )

    async def rebuild_from_truth(self, event_id: str, *, force: bool) -> Rebuilt | None:
        """Rebuild one event from events and booking. Not forced: only if it has no state (None
        when it had). Raises NotOnSale when events says it never went on sale."""
        layout = await self.events.layout(event_id)
        if layout is None:
            raise NotOnSale(event_id)
        sales = await self.booking.sales(event_id)
        return await self.inventory.rebuild(
            event_id,
            prepare_layout(layout.layout),
            sales.sold,
            sales.holds,
            only_if_missing=not force,
            status=layout.status,
        )

    # Reconciling --------------------------------------------------------------------------

    async def reconcile_forever(self, app: FastAPI | None = None) -> None:
        interval = self.settings.reconcile_interval_s
        while True:
            await asyncio.sleep(interval)
            try:
                # One replica per round: the lock expires before the next round.
                if await self.inventory.redis.set(
                    RECONCILER_LOCK_KEY, "1", nx=True, px=max(int(interval * 900), 1)
                ):
                    await self.reconcile_all()
            except Exception as exc:
                log.warning("reconciliation round failed", extra={"error": repr(exc)})

    async def reconcile_all(self) -> dict[str, Repairs]:
        repaired: dict[str, Repairs] = {}
        for event_id in sorted(self.known or ()):
            if event_id in self.missing or event_id in self.rebuilding:
                continue  # a rebuild's job
            try:
                repairs = await self.reconcile(event_id)
            except Exception as exc:
                log.warning(
                    "could not reconcile an event", extra={"event_id": event_id, "error": repr(exc)}
                )
                continue
            if repairs is not None and repairs.changed:
                repaired[event_id] = repairs
        return repaired

    async def reconcile(self, event_id: str) -> Repairs | None:
        """Compare one event with booking's truth and repair it. A sale that no booking holds is
        released only once it was extra for `RECONCILE_GRACE_S` (a confirmation may be between
        inventory and booking's write when first seen)."""
        sales = await self.booking.sales(event_id)
        now = time.monotonic()
        seen = self._extra.get(event_id, {})
        due = [b for b, first in seen.items() if now - first >= self.settings.reconcile_grace_s]
        repairs = await self.inventory.reconcile(event_id, sales.sold, sales.unsettled, due)
        if repairs is None:
            return None
        self._extra[event_id] = {b: seen.get(b, now) for b in repairs.extra}
        if not self._extra[event_id]:
            del self._extra[event_id]
        if repairs.changed:
            log.warning(
                "reconciler repaired an event's inventory",
                extra={
                    "event_id": event_id,
                    "sales_added": repairs.added,
                    "sold_bits_fixed": repairs.bits_fixed,
                    "sales_released": repairs.released,
                },
            )
        if repairs.unknown:
            log.error(
                "booking holds seats this event's layout lacks",
                extra={"event_id": event_id, "bookings": repairs.unknown},
            )
        return repairs
