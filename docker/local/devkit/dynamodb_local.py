#!/opt/venv/bin/python
"""DynamoDB Local's arguments (`-jar DynamoDBLocal.jar -sharedDb -dbPath DIR -port N ...`), over
the devkit's moto server: it serves DynamoDB's API on the port (8000 by default) on every address
of the container. Unlike DynamoDB Local it keeps the tables in memory: `-dbPath` is accepted and
not used, so a restart starts empty (as `make dev`'s does)."""

from __future__ import annotations

import argparse
import sys

from ticketing_devkit import moto_server


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dynamodb-local (devkit stand-in)")
    parser.add_argument("-jar")
    parser.add_argument("-port", type=int, default=8000)
    parser.add_argument("-dbPath")
    for flag in ("-sharedDb", "-inMemory", "-optimizeDbBeforeStartup", "-delayTransientStatuses"):
        parser.add_argument(flag, action="store_true")
    args = parser.parse_args(argv)
    print(
        f"dynamodb-local (devkit stand-in): moto on :{args.port}, tables in memory"
        + (f" (-dbPath {args.dbPath} not used)" if args.dbPath else ""),
        flush=True,
    )
    moto_server.main(["--host", "0.0.0.0", "--port", str(args.port)])


if __name__ == "__main__":
    main(sys.argv[1:])
