"""`python -m ticketing_inventory rebuild|reconcile (--event ID | --all)`.

Operators' tools for what inventory also does by itself (healer.py): `rebuild` re-creates events'
state from events and booking now, even where state exists (holds not yet booked lapse; a booking
awaiting payment keeps its seats); `reconcile` compares sales with booking's durable claims and
repairs them, saying what it changed. Both read REDIS_URL, EVENTS_URL, BOOKING_URL and
SERVICE_TOKEN like the service.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from ticketing_common.http_client import ServiceClient
from ticketing_common.jobs import Job, run_job
from ticketing_common.redis import RedisClient

from ticketing_inventory.healer import Healer, NotOnSale
from ticketing_inventory.main import healer_of, load_inventory
from ticketing_inventory.settings import InventorySettings


def _say(message: str) -> None:
    print(message, flush=True)


async def _run(command: str, event_id: str | None, settings: InventorySettings) -> int:
    redis = RedisClient.from_settings(settings)
    services = ServiceClient.from_settings(settings)
    await redis.start()
    await services.start()
    try:
        healer = healer_of(settings, services)
        healer.attach(await load_inventory(settings, redis.connection))
        events = [event_id] if event_id else sorted(await healer.events.events())
        _say(f"{command}: {len(events)} event(s)")
        failed = 0
        for number, event in enumerate(events, 1):
            try:
                line = await (_rebuild if command == "rebuild" else _reconcile)(healer, event)
            except NotOnSale:
                line = "never went on sale (events does not know it as published); skipped"
                failed += 1
            except Exception as exc:
                line = f"FAILED: {exc}"
                failed += 1
            _say(f"[{number}/{len(events)}] {event}: {line}")
        _say(f"done: {len(events) - failed} ok, {failed} failed")
        return 1 if failed else 0
    finally:
        await services.stop()
        await redis.stop()


async def _rebuild(healer: Healer, event_id: str) -> str:
    started = time.perf_counter()
    rebuilt = await healer.rebuild_from_truth(event_id, force=True)
    assert rebuilt is not None
    return (
        f"rebuilt ({rebuilt.status}) in {time.perf_counter() - started:.2f} s: "
        f"{rebuilt.sold} sold, {rebuilt.holds_restored} holds of pending bookings restored, "
        f"{len(rebuilt.holds_skipped)} not (expired or their places are sold)"
    )


async def _reconcile(healer: Healer, event_id: str) -> str:
    repairs = await healer.reconcile(event_id)
    if repairs is None:
        return "no state in Redis (the service rebuilds it by itself; or run `rebuild`)"
    if not repairs.changed and not repairs.extra:
        return "consistent with booking"
    parts = []
    if repairs.added:
        parts.append(f"{len(repairs.added)} missing sales added")
    if repairs.bits_fixed:
        parts.append(f"{repairs.bits_fixed} sold seats marked sold again")
    if repairs.extra:
        parts.append(
            f"{len(repairs.extra)} sales no booking holds (released by the service once they "
            "stay so for RECONCILE_GRACE_S)"
        )
    return "; ".join(parts)


def _which_events(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--event", metavar="ID", help="one event")
    which.add_argument("--all", action="store_true", help="every event that went on sale")


def _operate(args: argparse.Namespace) -> None:
    sys.exit(asyncio.run(_run(args.command, args.event, InventorySettings())))


JOBS = {
    "rebuild": Job(
        "re-create events' state from events and booking (now, even if present)",
        _operate,
        _which_events,
    ),
    "reconcile": Job(
        "compare sales with booking's durable claims and repair them", _operate, _which_events
    ),
}


def main(argv: list[str] | None = None) -> None:
    run_job("python -m ticketing_inventory", JOBS, argv)
