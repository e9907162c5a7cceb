"""`ticketing-events migrate` | `ticketing-events seed`."""

from __future__ import annotations

import argparse
import asyncio

from ticketing_common.migrations import migrations_dir, upgrade

from ticketing_events.settings import EventsSettings, SeedSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ticketing-events")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    commands.add_parser(
        "seed", help="demo accounts, venues and published events (safe to run again)"
    )
    args = parser.parse_args(argv)

    if args.command == "migrate":
        settings = EventsSettings()
        upgrade(settings.database_url, migrations_dir(__file__))
    elif args.command == "seed":
        from ticketing_events.seed import seed

        seed_settings = SeedSettings()
        asyncio.run(seed(seed_settings))


if __name__ == "__main__":
    main()
