"""Client CPU per upstream call, aiohttp's client against ticketing_common.http1, side by side:
what chose the proxy's (and ServiceClient's, and booking's DynamoDB) client.

    uv run python services/api-gateway/bench/upstream_clients.py [--calls 5000] [--concurrency 16]

The bare-ASGI hello-world (../shared/bench/hello.py) answers on core 0; this process, pinned to
core 1, makes `--calls` GETs `--concurrency` at a time with each client in turn (twice, in
alternation, so a drift in the machine shows) and measures its own CPU time: the figures are
calls per client CPU-second, the server's cost not in them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import aiohttp
import uvloop
from ticketing_common.http1 import Http1Client, Origin, Timeout
from ticketing_devkit.bench import BENCH, asgi_on_core

HEADERS = [("Accept", "*/*"), ("X-Request-ID", "bench")]


async def measure(url: str, calls: int, concurrency: int) -> None:
    lean = Http1Client()
    origin, timeouts = Origin.of(url), Timeout(5.0, 2.0)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    aiohttp_timeout = aiohttp.ClientTimeout(total=5, sock_connect=2)

    async def with_http1() -> None:
        response = await lean.request("GET", origin, "/", HEADERS, timeouts=timeouts)
        try:
            await response.read()
        finally:
            response.release()

    async def with_aiohttp() -> None:
        async with session.request(
            "GET", url + "/", headers=HEADERS, timeout=aiohttp_timeout, allow_redirects=False
        ) as response:
            await response.read()

    clients: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("aiohttp", with_aiohttp),
        ("http1", with_http1),
    ] * 2
    try:
        for name, call in clients:

            async def worker(call: Callable[[], Awaitable[None]] = call) -> None:
                for _ in range(calls // concurrency):
                    await call()

            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            made = calls // concurrency * concurrency
            print(
                f"{name:8s} {made / cpu:9,.0f} calls per client CPU-second "
                f"({cpu / made * 1e6:5.1f} µs each), {made / wall:9,.0f} calls/s",
                flush=True,
            )
    finally:
        await session.close()
        lean.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    with asgi_on_core("hello:app", 0, BENCH) as url:
        uvloop.run(measure(url, args.calls, args.concurrency))


if __name__ == "__main__":
    main()
