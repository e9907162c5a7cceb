"""`ticketing-auth migrate` | `ticketing-auth generate-key`."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime

from ticketing_common.migrations import migrations_dir, upgrade

from ticketing_auth.keys import generate_ed25519_pem
from ticketing_auth.settings import AuthSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ticketing-auth")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    commands.add_parser("generate-key", help="print a SIGNING_KEYS entry with a new Ed25519 key")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        settings = AuthSettings()
        upgrade(settings.database_url, migrations_dir(__file__))
    elif args.command == "generate-key":
        kid = f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:6]}"
        print(json.dumps({"kid": kid, "private_key": generate_ed25519_pem()}))


if __name__ == "__main__":
    main()
