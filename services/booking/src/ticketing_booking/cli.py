"""`ticketing-booking create-table` (safe to re-run) | `ticketing-booking generate-key`."""

from __future__ import annotations

import argparse
import asyncio

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ticketing_booking.dynamo import create_table
from ticketing_booking.settings import BookingSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ticketing-booking")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("create-table", help="create the DynamoDB table if it does not exist")
    commands.add_parser("generate-key", help="print a new TICKET_SIGNING_KEY (Ed25519, PEM)")
    args = parser.parse_args(argv)
    if args.command == "create-table":
        settings = BookingSettings()
        asyncio.run(create_table(settings))
    elif args.command == "generate-key":
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        print(pem.decode(), end="")


if __name__ == "__main__":
    main()
