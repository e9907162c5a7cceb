"""`ticketing-events migrate` | `ticketing-events seed`."""

from __future__ import annotations

import argparse
import asyncio

from ticketing_common.jobs import Job, run_job
from ticketing_common.migrations import migrate_job

from ticketing_events.settings import EventsSettings, SeedSettings


def _seed(_: argparse.Namespace) -> None:
    from ticketing_events.seed import seed

    asyncio.run(seed(SeedSettings()))


JOBS = {
    "migrate": migrate_job(EventsSettings, __file__),
    "seed": Job("demo accounts, venues and published events (safe to run again)", _seed),
}


def main(argv: list[str] | None = None) -> None:
    run_job("ticketing-events", JOBS, argv)
