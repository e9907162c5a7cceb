"""`ticketing-booking create-table` (safe to re-run) | `ticketing-booking generate-key`."""

from __future__ import annotations

import argparse
import asyncio

from ticketing_common.jobs import Job, run_job
from ticketing_common.signing import new_ed25519_pem

from ticketing_booking.dynamo import create_table
from ticketing_booking.settings import BookingSettings


def _create_table(_: argparse.Namespace) -> None:
    asyncio.run(create_table(BookingSettings()))


def _generate_key(_: argparse.Namespace) -> None:
    print(new_ed25519_pem(), end="")


JOBS = {
    "create-table": Job("create the DynamoDB table if it does not exist", _create_table),
    "generate-key": Job("print a new TICKET_SIGNING_KEY (Ed25519, PEM)", _generate_key),
}


def main(argv: list[str] | None = None) -> None:
    run_job("ticketing-booking", JOBS, argv)
