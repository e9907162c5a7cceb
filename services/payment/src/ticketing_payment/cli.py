"""`ticketing-payment migrate`."""

from __future__ import annotations

import argparse

from ticketing_common.migrations import migrations_dir, upgrade

from ticketing_payment.settings import PaymentSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ticketing-payment")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        settings = PaymentSettings()
        upgrade(settings.database_url, migrations_dir(__file__))


if __name__ == "__main__":
    main()
