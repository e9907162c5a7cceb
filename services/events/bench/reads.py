"""Requests per second of the events service's read paths on one core, next to a bare-ASGI
hello-world (../../../../shared/bench/ratio pins the server to core 1 and wrk to core 0).

    uv run python services/events/bench/reads.py [--seconds 8] [--only NAME ...]

Scenarios (a fresh database holding 2,000 published events in 20 cities, one venue each):
  list          GET /api/v1/events?limit=20                   the public listing, first page
  list-city     GET /api/v1/events?city=City-7&limit=20       filtered by city
  list-deep     GET /api/v1/events?limit=20&cursor=...        a page in the middle (keyset)
  event         GET /api/v1/events/{id}                       one event
  internal      GET /internal/events/{id}                     booking's view (event + venue, prices)
The machine is shared, so runs vary: look at several.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ticketing_events
from ticketing_common.database import Database
from ticketing_common.migrations import migrations_dir, upgrade
from ticketing_devkit.processes import free_port
from ticketing_devkit.stores import temporary_database, temporary_redis_db
from ticketing_events import cursors, repository
from ticketing_events.schemas import VenueIn

BENCH = next(
    parent / "shared" / "bench"
    for parent in Path(__file__).resolve().parents
    if (parent / "shared" / "bench" / "ratio").exists()
)
SERVICE_TOKEN = "dev-service-token-not-for-production"  # noqa: S105 - the dev default


async def fill(database_url: str) -> dict[str, str]:
    """2,000 published events; returns ids and a mid-listing cursor for the scenarios."""
    database = Database(database_url)
    await database.start()
    start = datetime.now(UTC) + timedelta(days=1)
    try:
        async with database.session() as db:
            venue_ids = []
            for n in range(20):
                venue = VenueIn.model_validate(
                    {
                        "name": f"Hall {n}",
                        "city": f"City-{n}",
                        "country": "GB",
                        "address": "1 Street",
                        "timezone": "Europe/London",
                        "sections": [
                            {
                                "section_id": "A",
                                "name": "A",
                                "kind": "seated",
                                "rows": [{"label": str(r), "seats": 30} for r in range(1, 21)],
                            }
                        ],
                    }
                )
                row = await repository.insert_venue(
                    db,
                    venue_id=str(uuid.uuid4()),
                    organizer_id="bench",
                    capacity=600,
                    **venue.model_dump(),
                )
                venue_ids.append(row["venue_id"])
            events = []
            for n in range(2000):
                events.append(
                    await repository.insert_event(
                        db,
                        event_id=str(uuid.uuid4()),
                        organizer_id="bench",
                        venue_id=venue_ids[n % 20],
                        title=f"Event {n}",
                        description="A benchmark event.",
                        category="concert",
                        city=f"City-{n % 20}",
                        starts_at=start + timedelta(hours=n),
                        ends_at=None,
                        price_tiers=[{"tier": "std", "price_cents": 2500, "currency": "GBP"}],
                        section_tiers={"A": "std"},
                        status="on_sale",
                        published_at=datetime.now(UTC),
                    )
                )
            await db.commit()
    finally:
        await database.stop()
    middle = events[1000]
    return {
        "event_id": events[0]["event_id"],
        "cursor": cursors.encode([middle["starts_at"].isoformat(), middle["event_id"]]),
    }


def scenarios(base: str, ids: dict[str, str]) -> dict[str, list[str]]:
    internal = ["--header", f"X-Service-Token: {SERVICE_TOKEN}"]
    return {
        "list": ["--url", f"{base}/api/v1/events?limit=20"],
        "list-city": ["--url", f"{base}/api/v1/events?city=City-7&limit=20"],
        "list-deep": ["--url", f"{base}/api/v1/events?limit=20&cursor={ids['cursor']}"],
        "event": ["--url", f"{base}/api/v1/events/{ids['event_id']}"],
        "internal": ["--url", f"{base}/internal/events/{ids['event_id']}", *internal],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    with temporary_database("bench_events") as database_url, temporary_redis_db() as redis_url:
        upgrade(database_url, migrations_dir(ticketing_events.__file__))
        ids = asyncio.run(fill(database_url))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = (
            f"env DATABASE_URL={database_url} REDIS_URL={redis_url} LOG_LEVEL=WARNING "
            f"{sys.executable} -m uvicorn --factory ticketing_events.main:create_app "
            f"--port {port} --no-access-log --loop uvloop --http httptools"
        )
        for name, options in scenarios(base, ids).items():
            if args.only and name not in args.only:
                continue
            command = [
                str(BENCH / "ratio"),
                "--python",
                sys.executable,
                "--server",
                server,
                "--ready",
                f"{base}/health",
                "--seconds",
                str(args.seconds),
                *options,
            ]
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            print(f"== {name}\n{(result.stdout + result.stderr).strip()}", flush=True)


if __name__ == "__main__":
    main()
