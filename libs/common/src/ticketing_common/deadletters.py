"""`python -m ticketing_common.deadletters list [--group G]` | `... replay --group G (--id ID... |
--all)`: the bus's dead letters, for operators (REDIS_URL names the bus's Redis).

A message goes to its group's dead letters when its handler failed `max_attempts` times or said
retrying cannot help. Once the cause is fixed, replay it: it is published again on its stream.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from ticketing_common.bus import DeadLetter, DeadLetters
from ticketing_common.redis import RedisClient
from ticketing_common.settings import RedisSettings


def _when(entry_id: str) -> str:
    millis = int(entry_id.split("-")[0])
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _line(letter: DeadLetter) -> str:
    summary = letter.summary
    return (
        f"{letter.entry_id}  {_when(letter.entry_id)}  {letter.group}  {summary['type']}  "
        f"envelope={summary['envelope_id']}  attempts={letter.attempts}  error={letter.error}"
    )


async def _run(args: argparse.Namespace) -> int:
    redis = RedisClient(RedisSettings().redis_url)
    await redis.start()
    try:
        letters = DeadLetters(redis.client)
        if args.command == "list":
            groups = [args.group] if args.group else await letters.groups()
            total = 0
            for group in groups:
                for letter in await letters.entries(group, args.limit):
                    print(_line(letter))
                    total += 1
            print(f"{total} dead letter(s) in {len(groups)} group(s)")
            return 0
        replayed = await letters.replay(args.group, None if args.all else args.id)
        for letter in replayed:
            print(f"replayed {_line(letter)} -> {letter.stream}")
        print(f"{len(replayed)} replayed")
        return 0 if replayed or args.all else 1
    finally:
        await redis.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketing_common.deadletters")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="show dead letters, oldest first")
    listing.add_argument("--group", help="one consumer group (default: every group)")
    listing.add_argument("--limit", type=int, default=100, help="per group (default 100)")
    replay = commands.add_parser("replay", help="publish dead letters again on their stream")
    replay.add_argument("--group", required=True, help="the consumer group they failed in")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", nargs="+", help="dead-letter entry ids (from `list`)")
    which.add_argument("--all", action="store_true", help="every dead letter of the group")
    sys.exit(asyncio.run(_run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
