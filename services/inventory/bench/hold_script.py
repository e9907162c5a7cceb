"""The limit under the hold path: how many holds per second the hold scripts themselves sustain
on one Redis core, called pipelined straight from Python (no HTTP, no service), and how many
inventory tasks it takes to reach that.

    uv run python services/inventory/bench/hold_script.py [--holds 100000] [--pipeline 64]

A private redis-server (no persistence) runs pinned to core 1; the callers, on core 0, keep
`--connections` pipelines of `--pipeline` EVALSHA calls each in flight. One hot event is one hash
slot, so one Redis core whatever the cluster size: this figure is the ceiling of holds/s for a
single event. Scenarios: a standing place (`hold_standing`, one place of a 1,000,000-place
section) and a seat (`hold_seats`, one new seat each of a 100,000-seat venue). Redis's own CPU
time (from /proc) over the run gives holds per Redis CPU-second, the figure that does not depend
on how busy the rest of the machine is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import redis.asyncio as aioredis
from ticketing_common.contracts import LayoutIn
from ticketing_devkit.bench import cpu_seconds
from ticketing_devkit.processes import free_port
from ticketing_devkit.stores import redis_server_command
from ticketing_inventory.ids import new_hold_id
from ticketing_inventory.keys import hold_keys
from ticketing_inventory.layout import prepare_layout
from ticketing_inventory.scripts import ScriptCaller, Scripts
from ticketing_inventory.store import Inventory, Limits

LIMITS = Limits(
    hold_ttl_ms=3_600_000,
    max_seats_per_hold=10,
    max_active_holds_per_user=10**9,
    record_ttl_ms=3_600_000,
)
# One inventory task: 0.5 vCPU at the 70 % CPU target, serving the hold route at the figure of
# loadtest/README.md's capacity table (requests per CPU-second of inventory/hold).
TASK_VCPU_AT_TARGET = 0.5 * 0.7


def seat(k: int) -> str:
    section, rest = divmod(k, 10_000)
    row, number = divmod(rest, 100)
    return f"{'ABCDEFGHIJ'[section]}-{row + 1}-{number + 1}"


async def prepare(client: aioredis.Redis, kind: str) -> tuple[Inventory, str]:
    inventory = Inventory(client, Scripts(client), ScriptCaller(), LIMITS)
    await inventory.scripts.load()
    event = f"bench-{uuid.uuid4().hex[:8]}"
    if kind == "standing":
        layout = {"standing": [{"section_id": "GA", "capacity": 1_000_000, "price_tier": "ga"}]}
    else:
        layout = {
            "seats": [
                {"seat_id": seat(k), "section_id": seat(k)[0], "price_tier": "std"}
                for k in range(100_000)
            ]
        }
    await inventory.init_layout(event, prepare_layout(LayoutIn.model_validate(layout)))
    return inventory, event


async def hammer(
    client: aioredis.Redis,
    inventory: Inventory,
    event: str,
    kind: str,
    holds: int,
    connections: int,
    depth: int,
) -> tuple[int, int, float]:
    script = inventory.scripts.hold_standing if kind == "standing" else inventory.scripts.hold_seats
    counter = iter(range(holds))
    held = refused = 0

    async def caller(user: str) -> None:
        nonlocal held, refused
        while True:
            pipe = client.pipeline(transaction=False)
            batch = 0
            for n in counter:
                hold_id = new_hold_id(event)
                args = inventory._hold_args(hold_id, user)
                if kind == "standing":
                    args += ["GA", 1]
                else:
                    args += [f'["{seat(n)}"]'.encode(), seat(n)]
                keys = hold_keys(event, hold_id, user)
                pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
                batch += 1
                if batch == depth:
                    break
            if not batch:
                return
            for reply in await pipe.execute(raise_on_error=False):
                if isinstance(reply, list) and reply and reply[0] == b"held":
                    held += 1
                else:
                    refused += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller(f"user-{n}") for n in range(connections)))
    return held, refused, time.perf_counter() - started


async def scenario(url: str, pid: int, kind: str, args: argparse.Namespace) -> None:
    client = aioredis.Redis.from_url(url, max_connections=args.connections + 2)
    try:
        inventory, event = await prepare(client, kind)
        before = cpu_seconds(pid)
        held, refused, took = await hammer(
            client, inventory, event, kind, args.holds, args.connections, args.pipeline
        )
        spent = cpu_seconds(pid) - before
    finally:
        await client.aclose()
    per_redis_cpu = held / spent if spent else 0.0
    per_task = args.hold_rps_per_cpu * TASK_VCPU_AT_TARGET
    print(
        f"{kind}: {held:,} held ({refused} refused) in {took:.1f} s = {held / took:,.0f} holds/s; "
        f"Redis spent {spent:.1f} CPU-s: {per_redis_cpu:,.0f} holds per Redis CPU-second; "
        f"{per_redis_cpu / per_task:.1f} inventory tasks of 0.5 vCPU at 70 % "
        f"({per_task:,.0f} holds/s each at {args.hold_rps_per_cpu:,} per CPU-second) reach it",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--holds", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pipeline", type=int, default=64)
    parser.add_argument(
        "--hold-rps-per-cpu", type=int, default=7_500, help="one inventory core's holds/s"
    )
    args = parser.parse_args()
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        redis_server = subprocess.Popen(  # noqa: S603 - the machine's redis-server, our arguments
            ["/usr/bin/taskset", "-c", "1", *redis_server_command(port, dir=data)],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            os.sched_setaffinity(0, {0})
            for kind in ("standing", "seat"):
                asyncio.run(scenario(f"redis://127.0.0.1:{port}/0", redis_server.pid, kind, args))
        finally:
            redis_server.terminate()
            redis_server.wait(10)


if __name__ == "__main__":
    main()
