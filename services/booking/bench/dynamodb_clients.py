"""CPU per DynamoDB call of the booking process, by client, on the same calls: what chose the
request path's client (ticketing_booking.dynamo_http).

    uv run --with aiodynamo python services/booking/bench/dynamodb_clients.py [--calls 2000]
        [--concurrency 16]          (`--with aiodynamo`: measure it too; not a project dependency)

The clients, each making the same calls against one moto server (devkit's, on core 0):
  aiobotocore           aioboto3's client as booking used it (defaults)
  aiobotocore-tuned     one long-lived client with parameter validation off, standard retries,
                        a connection pool as large as the concurrency, no client-side monitoring
  dynamo-http           the lean client: SigV4 on ticketing_common.http1's connections, orjson
                        (dynamo_http.py)
  aiodynamo             its low-level client, when installed
The calls are booking's: GetItem of a booking (consistent), a Query of 20 bookings on
user-index, a TransactWriteItems of three Puts (a new booking, its hold marker and deadline).
This process runs pinned to core 1 and measures its own CPU time (time.process_time) over
`--calls` calls made `--concurrency` at a time: the server's cost (moto, not DynamoDB) is not
in it, the client's is — and on AWS that part is the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aioboto3
import aiohttp
from botocore.config import Config
from ticketing_booking.dynamo import TABLE_DEFINITION, to_attributes
from ticketing_booking.dynamo_http import Credentials, DynamoHttp
from ticketing_booking.models import Booking
from ticketing_common.http1 import Http1Client, Timeout
from ticketing_devkit.processes import free_port, wait_until_healthy

REGION = "us-east-1"
KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
TABLE = "bench-bookings"


def booking(user_id: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return Booking(
        booking_id=uuid.uuid4().hex,
        user_id=user_id,
        event_id="bench-event",
        hold_id=uuid.uuid4().hex,
        seat_ids=("S1-1-1", "S1-1-2"),
        section_id=None,
        quantity=2,
        status="pending_payment",
        amount_cents=9000,
        currency="GBP",
        hold_expires_at=now,
        created_at=now,
    ).to_item()


def calls(user_id: str, booking_id: str) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    get = {
        "TableName": TABLE,
        "Key": to_attributes({"booking_id": booking_id}),
        "ConsistentRead": True,
    }
    query = {
        "TableName": TABLE,
        "IndexName": "user-index",
        "KeyConditionExpression": "#k = :v",
        "FilterExpression": "kind = :booking",
        "ExpressionAttributeNames": {"#k": "user_id"},
        "ExpressionAttributeValues": to_attributes({":v": user_id, ":booking": "booking"}),
        "Limit": 20,
    }

    def transaction() -> dict[str, Any]:
        item = booking(f"writer-{uuid.uuid4().hex[:6]}")
        condition = "attribute_not_exists(booking_id)"
        return {
            "TransactItems": [
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": to_attributes(item),
                        "ConditionExpression": condition,
                    }
                },
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": to_attributes(
                            {"booking_id": f"hold#{item['hold_id']}", "kind": "hold"}
                        ),
                        "ConditionExpression": condition,
                    }
                },
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": to_attributes(
                            {"booking_id": f"expiry#{item['booking_id']}", "kind": "expiry"}
                        ),
                    }
                },
            ]
        }

    return {
        "GetItem": lambda client: client.get_item(**get),
        "Query (20 items)": lambda client: client.query(**query),
        "TransactWriteItems (3 puts)": lambda client: client.transact_write_items(**transaction()),
    }


@contextlib.asynccontextmanager
async def aiobotocore_client(endpoint: str, config: Config | None) -> AsyncIterator[Any]:
    async with aioboto3.Session().client(
        "dynamodb", region_name=REGION, endpoint_url=endpoint, config=config, **KEYS
    ) as client:
        yield client


@contextlib.asynccontextmanager
async def lean_client(endpoint: str, concurrency: int) -> AsyncIterator[Any]:
    connections = Http1Client(limit_per_origin=concurrency, keepalive_s=15.0)
    try:
        yield DynamoHttp(
            connections, endpoint, REGION, Credentials("bench", "bench"), Timeout(10.0, 2.0)
        )
    finally:
        connections.close()


class AiodynamoCalls:
    """aiodynamo's low-level client (`Client.send_request`), called with the same bodies."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def get_item(self, **body: Any) -> Any:
        return await self.client.send_request(action="GetItem", payload=body)

    async def query(self, **body: Any) -> Any:
        return await self.client.send_request(action="Query", payload=body)

    async def transact_write_items(self, **body: Any) -> Any:
        return await self.client.send_request(action="TransactWriteItems", payload=body)


@contextlib.asynccontextmanager
async def aiodynamo_client(endpoint: str) -> AsyncIterator[Any]:
    from aiodynamo.client import Client  # type: ignore[import-not-found]
    from aiodynamo.credentials import Key, StaticCredentials  # type: ignore[import-not-found]
    from aiodynamo.http.aiohttp import AIOHTTP  # type: ignore[import-not-found]
    from yarl import URL

    async with aiohttp.ClientSession() as session:
        client = Client(
            AIOHTTP(session), StaticCredentials(Key("bench", "bench")), REGION, URL(endpoint)
        )
        yield AiodynamoCalls(client)


def clients(endpoint: str, concurrency: int) -> dict[str, Callable[[], Any]]:
    tuned = Config(
        parameter_validation=False,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=concurrency,
        tcp_keepalive=True,
    )
    found: dict[str, Callable[[], Any]] = {
        "aiobotocore": lambda: aiobotocore_client(endpoint, None),
        "aiobotocore-tuned": lambda: aiobotocore_client(endpoint, tuned),
        "dynamo-http": lambda: lean_client(endpoint, concurrency),
    }
    try:
        import aiodynamo  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        print("(aiodynamo is not installed here: not measured)", flush=True)
    else:
        found["aiodynamo"] = lambda: aiodynamo_client(endpoint)
    return found


async def measure(
    client: Any, call: Callable[[Any], Awaitable[Any]], count: int, concurrency: int
) -> float:
    """Microseconds of this process's CPU per call."""
    for _ in range(20):  # warm up: connections, caches
        await call(client)
    left = count

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call(client)

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - started) / count * 1e6


async def run(endpoint: str, count: int, concurrency: int, only: list[str] | None) -> None:
    async with aiobotocore_client(endpoint, None) as setup:
        await setup.create_table(TableName=TABLE, **TABLE_DEFINITION)
        user_id = "reader"
        items = [booking(user_id) for _ in range(20)]
        for item in items:
            await setup.put_item(TableName=TABLE, Item=to_attributes(item))
    results: dict[str, dict[str, float]] = {}
    for name, make in clients(endpoint, concurrency).items():
        if only and name not in only:
            continue
        async with make() as client:
            for label, call in calls(user_id, items[0]["booking_id"]).items():
                cpu = await measure(client, call, count, concurrency)
                results.setdefault(label, {})[name] = cpu
                print(f"{label:<28} {name:<18} {cpu:8.0f} us CPU per call", flush=True)
    names = list(next(iter(results.values())))
    print("\n| call | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for label, row in results.items():
        print(f"| {label} | " + " | ".join(f"{row[n]:,.0f} µs" for n in names) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", nargs="*", help="measure only these clients")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    port = free_port()
    moto = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
        [
            "/usr/bin/taskset",
            "-c",
            "0",
            sys.executable,
            "-m",
            "ticketing_devkit.moto_server",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/moto-api/", 30, moto)
        asyncio.run(run(f"http://127.0.0.1:{port}", args.calls, args.concurrency, args.only))
    finally:
        moto.kill()  # werkzeug's threaded server may sit on open connections past a terminate
        moto.wait(10)


if __name__ == "__main__":
    main()
