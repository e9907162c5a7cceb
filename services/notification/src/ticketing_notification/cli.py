"""`ticketing-notification migrate` (also `python -m ticketing_notification migrate`)."""

from __future__ import annotations

import argparse

from ticketing_common.migrations import migrations_dir, upgrade

from ticketing_notification.settings import NotificationSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ticketing-notification")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        settings = NotificationSettings()
        upgrade(settings.database_url, migrations_dir(__file__))


if __name__ == "__main__":
    main()
