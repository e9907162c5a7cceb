"""A waiting-room position poll (`GET /api/v1/waiting-room/{event_id}`) through the gateway,
measured with ../shared/bench/ratio beside the bare-ASGI hello-world (goal: >= 0.25x).

    uv run python services/api-gateway/bench/waiting_room.py [--runs 3] [--seconds 8]
        [--connections 64] [--waiting 20000]

The gateway runs pinned to core 1 by `ratio` as in production: JWT verification at the edge,
the room's per-account rate limit (set high: the admitted path is what gets measured), the
access log, the admission loop ticking. The room holds `--waiting` people in Redis (a temporary
db) and the polling account sits in the middle of the queue, so every poll is the real one:
its token checked, its place ranked among the others in Redis (one script call, batched with
whatever other polls arrive at the same moment), its estimate and Retry-After computed. The
trivial upstream (bench/upstream.py: the JWKS and the list of rooms) and wrk share core 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from cryptography.hazmat.primitives.asymmetric import ed25519
from run import GATEWAY_APP, PREFIXES, UNLIMITED, signing_material
from ticketing_api_gateway.admission import AdmissionKeys
from ticketing_api_gateway.waiting_room import RoomConfig, WaitingRoom
from ticketing_common.redis import RedisClient
from ticketing_devkit.bench import run_ratio
from ticketing_devkit.processes import free_port, uvicorn_command, wait_until_healthy
from ticketing_devkit.stores import temporary_redis_db

HERE = Path(__file__).resolve().parent
EVENT_ID = "evt-bench-room"
ACCOUNT = "bench-user"  # the subject of run.signing_material's token


def room_settings() -> dict[str, object]:
    return {
        "event_id": EVENT_ID,
        "enabled": True,
        "opens_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "admission_per_minute": 1,  # the queue barely moves while it is measured
        "max_shoppers": 1,
        "shopping_minutes": 120,
    }


async def fill(redis_url: str, settings: dict[str, object], waiting: int) -> None:
    """`waiting` people in the room's queue, the polling account in the middle of them."""
    client = RedisClient(redis_url)
    await client.start()
    keys = AdmissionKeys(ed25519.Ed25519PrivateKey.generate())
    room = WaitingRoom(client, keys, redis_timeout_s=5)
    config = RoomConfig.from_settings(settings)
    try:
        await room.join(config, "first-in-line")
        plain = redis.Redis.from_url(redis_url)
        queue = f"wr:{{{EVENT_ID}}}:q"
        start = room.now_us()
        for chunk in range(0, waiting, 5000):
            plain.zadd(
                queue,
                {f"p{n}": start + n for n in range(chunk, min(waiting, chunk + 5000))},
            )
        plain.zadd(queue, {ACCOUNT: start + waiting // 2})
        plain.close()
        state = await room.poll(config, ACCOUNT)
        assert state is not None, "the polling account has no place"
        assert state["state"] == "waiting", state
        print(f"room: {waiting + 2:,} waiting; the polling account at {state['position']:,}")
    finally:
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--waiting", type=int, default=20_000)
    args = parser.parse_args()

    jwks, token = signing_material()
    settings = room_settings()
    upstream_port = free_port()
    upstream = subprocess.Popen(  # noqa: S603 - taskset, our interpreter, our arguments
        ["/usr/bin/taskset", "-c", "0", *uvicorn_command("upstream:create_app", upstream_port)],
        cwd=HERE,
        env={**os.environ, "BENCH_JWKS": jwks, "BENCH_ROOMS": json.dumps({"items": [settings]})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    try:
        wait_until_healthy(f"{upstream_url}/jwks", 30, upstream)
        with temporary_redis_db() as redis_url:
            asyncio.run(fill(redis_url, settings, args.waiting))
            env = {
                **os.environ,
                "ENVIRONMENT": "test",
                "LOG_LEVEL": "INFO",
                "GATEWAY_ROUTES": json.dumps(dict.fromkeys(PREFIXES, upstream_url)),
                "JWKS_URL": f"{upstream_url}/jwks",
                "EVENTS_URL": upstream_url,
                "REDIS_URL": redis_url,
                "RATE_LIMITS": json.dumps(
                    {
                        "default": {"anonymous": UNLIMITED, "user": UNLIMITED},
                        "waiting-room": {
                            "prefixes": ["/api/v1/waiting-room"],
                            "anonymous": UNLIMITED,
                            "user": UNLIMITED,
                        },
                    }
                ),
            }
            headers = [
                "User-Agent: ticketing-bench/1.0",
                "Accept: application/json",
                f"Authorization: Bearer {token}",
            ]
            for run in range(1, args.runs + 1):
                port = free_port()
                result = run_ratio(
                    server=uvicorn_command(GATEWAY_APP, port),
                    port=port,
                    path=f"/api/v1/waiting-room/{EVENT_ID}",
                    seconds=args.seconds,
                    connections=args.connections,
                    headers=headers,
                    env=env,
                )
                print(f"run {run} | position poll: {result.line()}", flush=True)
                print("    " + result.output.strip().replace("\n", "\n    "), flush=True)
    finally:
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    main()
