"""`ticketing-auth migrate` | `ticketing-auth generate-key`."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime

from ticketing_common.jobs import Job, run_job
from ticketing_common.migrations import migrate_job
from ticketing_common.signing import new_ed25519_pem

from ticketing_auth.settings import AuthSettings


def _generate_key(_: argparse.Namespace) -> None:
    kid = f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:6]}"
    print(json.dumps({"kid": kid, "private_key": new_ed25519_pem()}))


JOBS = {
    "migrate": migrate_job(AuthSettings, __file__),
    "generate-key": Job("print a SIGNING_KEYS entry with a new Ed25519 key", _generate_key),
}


def main(argv: list[str] | None = None) -> None:
    run_job("ticketing-auth", JOBS, argv)
