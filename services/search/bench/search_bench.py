"""Search throughput on the embedded PostgreSQL backend, next to a bare-ASGI hello-world
(../shared/bench/ratio: server pinned to core 1, wrk on core 0).

    .venvs/ticketing-search/bin/python services/search/bench/search_bench.py [--events 5000]
    (BENCH_RATIO=/path/to/shared/bench/ratio when the repository is not next to shared/)

Seeds a throwaway database with made-up events (through the reindex path), then measures
`GET /api/v1/search/events` for a typo'd text query with a city filter and facets, and
`GET /api/v1/search/suggest`. Everything runs on 127.0.0.1; each run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ticketing_search.cli
from ticketing_common.database import Database
from ticketing_common.migrations import migrations_dir, upgrade
from ticketing_devkit.processes import free_port
from ticketing_devkit.stores import temporary_database, temporary_redis_db
from ticketing_search.model import SearchDocument
from ticketing_search.postgres_backend import PostgresSearch

# The harness lives next to the repository (../shared); a worktree elsewhere names it.
RATIO = os.environ.get(
    "BENCH_RATIO", str(Path(__file__).resolve().parents[3].parent / "shared" / "bench" / "ratio")
)
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Wien", "Zürich", "Seoul", "Busan", "Paris"]
CATEGORIES = ["concert", "theatre", "sport", "comedy", "festival", "opera"]
# About 1 in 100 titles has one of these; the rest of a title comes from a made-up vocabulary,
# so a query matches a realistic few dozen events rather than a quarter of the catalogue.
KNOWN = ["Metallica", "Symphony", "Jazz", "Orchestra"]


def documents(count: int) -> list[SearchDocument]:
    rng = random.Random(7)  # noqa: S311 - made-up data, reproducible
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    vocabulary = ["".join(rng.sample(syllables, 3)).title() for _ in range(3000)]
    now = datetime.now(UTC)

    def title() -> str:
        words = rng.sample(vocabulary, 3)
        if rng.random() < 0.01 * len(KNOWN):
            words[rng.randrange(3)] = rng.choice(KNOWN)
        return " ".join(words)

    return [
        SearchDocument(
            event_id=f"bench-{n}",
            title=title(),
            category=rng.choice(CATEGORIES),
            venue_name=f"{rng.choice(['Arena', 'Halle', 'Stadion', 'Club'])} {n % 200}",
            city=rng.choice(CITIES),
            starts_at=now + timedelta(hours=rng.randint(1, 24 * 365)),
            min_price_cents=rng.randint(1000, 20000),
            currency="EUR",
            status="on_sale",
        )
        for n in range(count)
    ]


async def seed(database_url: str, count: int) -> None:
    database = Database(database_url)
    await database.start()
    try:
        docs = documents(count)

        async def pages() -> AsyncIterator[list[SearchDocument]]:
            for start in range(0, len(docs), 500):
                yield docs[start : start + 500]

        report = await PostgresSearch(database).reindex(pages(), datetime.now(UTC))
        print(f"seeded {report.indexed} events", flush=True)
    finally:
        await database.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with temporary_database("bench") as database_url, temporary_redis_db() as redis_url:
        upgrade(database_url, migrations_dir(ticketing_search.cli.__file__))
        asyncio.run(seed(database_url, args.events))
        port = free_port()
        env = f"DATABASE_URL={database_url} REDIS_URL={redis_url} LOG_LEVEL=WARNING"
        server = (
            f"env {env} {shlex.quote(sys.executable)} -m uvicorn --factory "
            f"ticketing_search.main:create_app --port {port} --no-access-log "
            "--loop uvloop --http httptools --log-level warning"
        )
        base = f"http://127.0.0.1:{port}/api/v1/search"
        for label, path in [
            ("search (typo, city filter, facets)", "/events?q=metalica&city=Berlin&limit=20"),
            ("suggest (prefix)", "/suggest?q=symph"),
        ]:
            print(f"--- {label}: GET {path}", flush=True)
            subprocess.run(  # noqa: S603 - our own harness on loopback
                [
                    RATIO,
                    "--python",
                    sys.executable,
                    "--server",
                    server,
                    "--url",
                    base + path,
                    "--ready",
                    f"http://127.0.0.1:{port}/health",
                    "--seconds",
                    str(args.seconds),
                    "--connections",
                    str(args.connections),
                ],
                check=True,
                env=os.environ,
            )


if __name__ == "__main__":
    main()
