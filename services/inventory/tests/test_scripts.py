"""The Redis layer without HTTP: script loading and NOSCRIPT, call batching, key slots, and the
sweeper (which only tidies: reads are exact before it runs)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.cluster import key_slot
from redis.exceptions import ResponseError
from ticketing_common.contracts import LayoutIn
from ticketing_common.redis import RedisClient
from ticketing_inventory.keys import event_keys, hold_keys
from ticketing_inventory.layout import prepare_layout
from ticketing_inventory.scripts import CallBatcher, ScriptCaller, Scripts
from ticketing_inventory.store import Inventory, Limits
from ticketing_inventory.sweeper import sweep_once

LAYOUT = LayoutIn.model_validate(
    {
        "seats": [
            {"seat_id": f"A-1-{n}", "section_id": "A", "price_tier": "x"} for n in range(1, 21)
        ],
        "standing": [{"section_id": "GA", "capacity": 10, "price_tier": "y"}],
    }
)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = RedisClient(redis_url)
    await client.start()
    yield client.client
    await client.stop()


def _inventory(redis: Redis, call: ScriptCaller, ttl_ms: int = 60_000) -> Inventory:
    scripts = Scripts(redis)
    return Inventory(redis, scripts, call, Limits(ttl_ms, 10, 100, 3_600_000))


@pytest.mark.parametrize("batched", [False, True])
async def test_a_script_flush_is_survived(redis: Redis, batched: bool) -> None:
    inventory = _inventory(redis, CallBatcher(redis) if batched else ScriptCaller())
    await inventory.scripts.load()
    event = f"flush-{batched}"
    await inventory.init_layout(event, prepare_layout(LAYOUT))
    await redis.script_flush()
    assert await redis.script_exists(inventory.scripts.hold_seats.sha) == [False]
    hold = await inventory.hold_seats(event, "ann", ["A-1-1"])
    assert await redis.script_exists(inventory.scripts.hold_seats.sha) == [True]
    assert (await inventory.hold(hold.hold_id)).status == "held"


async def test_concurrent_calls_share_pipelines(redis: Redis, monkeypatch: Any) -> None:
    batcher = CallBatcher(redis)
    inventory = _inventory(redis, batcher)
    await inventory.scripts.load()
    await inventory.init_layout("batched", prepare_layout(LAYOUT))
    pipelines = 0
    make_pipeline = redis.pipeline

    def counting_pipeline(*args: Any, **kwargs: Any) -> Any:
        nonlocal pipelines
        pipelines += 1
        return make_pipeline(*args, **kwargs)

    monkeypatch.setattr(redis, "pipeline", counting_pipeline)
    seats = [[f"A-1-{n}"] for n in range(1, 21)] + [["A-1-1"]] * 10
    results = await asyncio.gather(
        *(inventory.hold_seats("batched", f"u{n}", s) for n, s in enumerate(seats)),
        return_exceptions=True,
    )
    held = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(held) == 20
    assert len(refused) == 10  # A-1-1 went to exactly one caller; the others got 409s
    assert all(getattr(r, "status", None) == 409 for r in refused)
    assert pipelines == 1  # thirty calls made in one event-loop turn: one round trip


async def test_one_failing_call_does_not_fail_its_batch(redis: Redis) -> None:
    batcher = CallBatcher(redis)
    inventory = _inventory(redis, batcher)
    await inventory.init_layout("partly-bad", prepare_layout(LAYOUT))
    scripts = inventory.scripts
    good = batcher(scripts.close, hold_keys("no-such-event", "h", "u")[:9], [])
    ttl_not_a_number = ["h", "u", "soon", 5, 1000, "GA", 1]
    bad = batcher(scripts.hold_standing, hold_keys("partly-bad", "h", "u"), ttl_not_a_number)
    assert (await good)[0] == b"unknown-event"
    with pytest.raises(ResponseError):
        await bad


def test_every_key_of_an_event_is_in_one_slot() -> None:
    keys = hold_keys("evt-42", "abc.evt-42", "user-7")
    assert len(keys) == 11
    assert len({key_slot(key) for key in keys}) == 1
    assert key_slot(b"inv:{evt-43}:meta") != key_slot(keys[0])


async def test_expiry_is_exact_before_the_sweeper_and_the_sweeper_tidies(redis: Redis) -> None:
    inventory = _inventory(redis, ScriptCaller(), ttl_ms=150)
    await inventory.scripts.load()
    event = "sweep"
    await inventory.init_layout(event, prepare_layout(LAYOUT))
    await inventory.hold_seats(event, "ann", ["A-1-1", "A-1-2"])
    await inventory.hold_standing(event, "bob", "GA", 4)
    await asyncio.sleep(0.3)

    before = await inventory.availability(event, with_seats=True)
    counts = {s["section_id"]: (s["held"], s["available"]) for s in before["sections"]}
    assert counts == {"A": (0, 20), "GA": (0, 10)}
    assert before["seats"]["A-1-1"] == "available"
    claims = f"inv:{{{event}}}:claims"
    assert await redis.zcard(claims) == 6  # the expired claims are still there, counted as free
    assert await redis.getbit(f"inv:{{{event}}}:held", 0) == 1

    assert await sweep_once(inventory, batch=1) >= 2  # batches until nothing is left
    assert await redis.zcard(claims) == 0
    assert await redis.hlen(f"inv:{{{event}}}:holders") == 0
    assert await redis.bitcount(f"inv:{{{event}}}:held") == 0
    assert await inventory.availability(event, with_seats=True) == before


async def test_the_availability_of_100000_seats_is_one_compact_round_trip(redis: Redis) -> None:
    seats = [
        {"seat_id": f"{s}-{r}-{n}", "section_id": s, "price_tier": "x"}
        for s in "ABCDEFGHIJ"
        for r in range(1, 101)
        for n in range(1, 101)
    ]
    inventory = _inventory(redis, ScriptCaller())
    await inventory.scripts.load()
    event = "stadium"
    await inventory.init_layout(event, prepare_layout(LayoutIn.model_validate({"seats": seats})))
    await inventory.hold_seats(event, "ann", ["C-50-50", "J-100-100"])

    keys = event_keys(event)
    first = await inventory.scripts.availability(keys=keys, args=["seats", ""])
    digest = first[1]
    again = await inventory.scripts.availability(keys=keys, args=["seats", digest])
    size = sum(len(part) if isinstance(part, bytes) else 8 * len(part) for part in again[4:])
    assert size < 40_000  # two 12.5 kB bitmaps and the counts: no key or entry per seat
    assert len(first[9]) > 700_000  # the seat ids come once, until the layout changes
    bits = await inventory.scripts.availability(keys=keys, args=["bits", ""])
    assert len(bits) == 9  # the bitmaps and the expired claims, never the seat ids
    assert await inventory.availability_bits(event) == await inventory.availability_bits(event)

    answer = await inventory.availability(event, with_seats=True)
    assert len(answer["seats"]) == 100_000
    assert [s for s, state in answer["seats"].items() if state == "held"] == [
        "C-50-50",
        "J-100-100",
    ]
