"""The seat map's parts on one core, next to a bare-ASGI hello-world (../shared/bench/ratio
beside the repository root: the server pinned to core 1, wrk on core 0), with the requests per
CPU-second of the server.

    uv run python services/events/bench/seatmap.py [--seconds 8] [--only NAME ...]

The event is the capacity model's (6 seated sections of 20 rows of 25, a standing area of 1,000:
4,000 places), published, with a tenth of its seats sold (inventory's rebuild with sales).
Scenarios:
  seatmap        events  GET /api/v1/events/{id}/seatmap   the contract's, every seat's status
  layout         events  GET /api/v1/events/{id}/layout    the immutable part, 200 with a body
  layout-304     events  the same with If-None-Match: its ETag (a browser or the CDN revalidating)
  bits           inventory GET .../availability/bits       every seat's state as two bitmaps
  seats          inventory GET .../availability?seats=true the per-seat JSON, for comparison
The events instance under test calls an inventory instance running beside wrk on core 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import ticketing_events
from ticketing_common.database import Database
from ticketing_common.migrations import migrations_dir, upgrade
from ticketing_common.settings import DEV_SERVICE_TOKEN
from ticketing_devkit.bench import run_ratio
from ticketing_devkit.processes import free_port, uvicorn_command, wait_until_healthy
from ticketing_devkit.stores import temporary_database, temporary_redis_db
from ticketing_events import repository
from ticketing_events.schemas import VenueIn
from ticketing_events.venues import inventory_layout

INTERNAL = {"X-Service-Token": DEV_SERVICE_TOKEN}
SECTIONS = [
    {
        "section_id": f"S{n}",
        "name": f"Section {n}",
        "kind": "seated",
        "rows": [{"label": str(r), "seats": 25} for r in range(1, 21)],
    }
    for n in range(1, 7)
] + [{"section_id": "GA", "name": "Standing", "kind": "standing", "capacity": 1000}]


async def fill(database_url: str) -> dict[str, Any]:
    """A venue and a published event on it; returns the event."""
    database = Database(database_url)
    await database.start()
    try:
        async with database.session() as db:
            venue = VenueIn.model_validate(
                {
                    "name": "Bench Hall",
                    "city": "London",
                    "country": "GB",
                    "address": "1 Loopback Lane",
                    "timezone": "Europe/London",
                    "sections": SECTIONS,
                }
            )
            row = await repository.insert_venue(
                db,
                venue_id=str(uuid.uuid4()),
                organizer_id="bench",
                capacity=4000,
                **venue.model_dump(),
            )
            tiers = {s["section_id"]: "ga" if s["kind"] == "standing" else "std" for s in SECTIONS}
            event = await repository.insert_event(
                db,
                event_id=str(uuid.uuid4()),
                organizer_id="bench",
                venue_id=row["venue_id"],
                title="Seat map bench",
                description="",
                category="concert",
                city="London",
                starts_at=datetime.now(UTC) + timedelta(days=30),
                ends_at=None,
                price_tiers=[
                    {"tier": "std", "price_cents": 4500, "currency": "GBP"},
                    {"tier": "ga", "price_cents": 3000, "currency": "GBP"},
                ],
                section_tiers=tiers,
                status="on_sale",
                published_at=datetime.now(UTC),
            )
            await db.commit()
            return event
    finally:
        await database.stop()


def sell_a_tenth(inventory_url: str, event: dict[str, Any]) -> None:
    """Inventory's seats for the event, a tenth of them sold (rebuild with those sales)."""
    layout = inventory_layout(SECTIONS, event["section_tiers"])
    seats = [seat["seat_id"] for seat in layout["seats"]]
    sold = random.Random(7).sample(seats, len(seats) // 10)  # noqa: S311 - made-up data
    sales = [
        {"booking_id": f"bench-{n}", "seat_ids": sold[n : n + 2]} for n in range(0, len(sold), 2)
    ]
    base = f"{inventory_url}/internal/events/{event['event_id']}"
    with httpx.Client(headers=INTERNAL, timeout=60) as http:
        http.put(f"{base}/layout", json=layout).raise_for_status()
        http.post(f"{base}/rebuild", json={"layout": layout, "sold": sales}).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    with temporary_database("bench_seatmap") as database_url, temporary_redis_db() as redis_url:
        upgrade(database_url, migrations_dir(ticketing_events.__file__))
        event = asyncio.run(fill(database_url))
        event_id = event["event_id"]
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "test",
        }
        peer_port = free_port()
        peer = subprocess.Popen(  # noqa: S603 - taskset, our interpreter, our arguments
            [
                "/usr/bin/taskset",
                "-c",
                "0",
                *uvicorn_command("ticketing_inventory.main:create_app", peer_port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            peer_url = f"http://127.0.0.1:{peer_port}"
            wait_until_healthy(f"{peer_url}/health", 30, peer)
            sell_a_tenth(peer_url, event)
            events_env = env | {"INVENTORY_URL": peer_url}
            revalidate = [f"If-None-Match: {layout_etag(events_env, event_id)}"]
            inventory_path = f"/api/v1/inventory/events/{event_id}/availability"
            scenarios: dict[str, tuple[str, str, list[str]]] = {
                "seatmap": ("events", f"/api/v1/events/{event_id}/seatmap", []),
                "layout": ("events", f"/api/v1/events/{event_id}/layout", []),
                "layout-304": ("events", f"/api/v1/events/{event_id}/layout", revalidate),
                "bits": ("inventory", f"{inventory_path}/bits", []),
                "seats": ("inventory", f"{inventory_path}?seats=true", []),
            }
            for name, (service, path, headers) in scenarios.items():
                if args.only and name not in args.only:
                    continue
                port = free_port()
                result = run_ratio(
                    server=uvicorn_command(f"ticketing_{service}.main:create_app", port),
                    port=port,
                    path=path,
                    seconds=args.seconds,
                    headers=headers,
                    env=events_env if service == "events" else env,
                )
                print(f"== {name} ({service})", flush=True)
                print(f"  {result.line()}", flush=True)
        finally:
            peer.terminate()
            peer.wait(10)


def layout_etag(env: dict[str, str], event_id: str) -> str:
    """The layout's ETag, from an events instance of its own (the one measured starts later)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        uvicorn_command("ticketing_events.main:create_app", port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/health", 30, process)
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/events/{event_id}/layout")
        response.raise_for_status()
        return response.headers["etag"]
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
