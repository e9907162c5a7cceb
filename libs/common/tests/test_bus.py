import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from ticketing_common.bus import Bus, Consumer, DeadLetters, PermanentFailure, Subscriptions
from ticketing_common.facts import Envelope, PaymentFailed, PaymentSucceeded
from ticketing_common.redis import RedisClient


def payment(n: int = 1) -> PaymentSucceeded:
    return PaymentSucceeded(
        payment_id=f"p{n}",
        booking_id=f"b{n}",
        amount_cents=100 * n,
        currency="EUR",
        provider="local",
    )


class Recorder:
    def __init__(self, fail_times: int = 0, fail_on: set[str] | None = None) -> None:
        self.seen: list[Any] = []
        self.attempts = 0
        self.fail_times = fail_times
        self.fail_on = fail_on or set()

    async def __call__(self, envelope: Envelope, fact: Any) -> None:
        self.attempts += 1
        if fact.payment_id in self.fail_on:
            raise RuntimeError(f"poison {fact.payment_id}")
        if self.attempts <= self.fail_times:
            raise ConnectionError("transient")
        self.seen.append(fact)


def consumer(redis: RedisClient, handler: Any, **options: Any) -> Consumer:
    defaults: dict[str, Any] = {"backoff_s": 0.05, "max_backoff_s": 0.2, "max_attempts": 3}
    return Consumer(
        redis,
        "booking",
        Subscriptions().on_delivery(PaymentSucceeded, handler),
        **(defaults | options),
    )


async def drain(c: Consumer, rounds: int = 40) -> None:
    """Drive the consumer's steps (read new, retry, reclaim) until things settle."""
    await c.ensure_groups()
    for _ in range(rounds):
        for stream in c.streams:
            await c.read_new(stream)
            await c.retry_pending(stream)
            await c.reclaim_abandoned(stream)
        await asyncio.sleep(0.02)


async def test_a_published_fact_reaches_the_handler_typed(redis: RedisClient) -> None:
    recorder = Recorder()
    c = consumer(redis, recorder)
    await c.ensure_groups()
    envelope = await Bus(redis, "payment").publish(payment(7))
    assert envelope.stream == "facts:payment"
    await drain(c, rounds=2)
    assert recorder.seen == [payment(7)]
    assert isinstance(recorder.seen[0], PaymentSucceeded)
    assert await redis.client.xpending("facts:payment", "booking") == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }


async def test_the_same_envelope_twice_is_handled_once(redis: RedisClient) -> None:
    recorder = Recorder()
    c = consumer(redis, recorder)
    await c.ensure_groups()
    envelope = Envelope.of(payment(), "payment")
    bus = Bus(redis, "payment")
    await bus.publish_envelope(envelope)
    await bus.publish_envelope(envelope)  # e.g. the outbox relay crashed before marking it
    await drain(c, rounds=3)
    assert len(recorder.seen) == 1


async def test_a_batch_is_published_in_order_and_handled_once_each(redis: RedisClient) -> None:
    recorder = Recorder()
    c = consumer(redis, recorder)
    await c.ensure_groups()
    envelopes = [Envelope.of(payment(n), "payment") for n in (3, 1, 2)]
    bus = Bus(redis, "payment")
    ids = await bus.publish_envelopes(envelopes)
    entries = await redis.client.xrange("facts:payment")
    assert [entry_id.decode() for entry_id, _ in entries] == ids
    assert [Envelope.model_validate_json(fields[b"envelope"]).id for _, fields in entries] == [
        envelope.id for envelope in envelopes
    ]
    await drain(c, rounds=2)
    assert recorder.seen == [payment(3), payment(1), payment(2)]
    assert (await redis.client.xpending("facts:payment", "booking"))["pending"] == 0


async def test_each_group_gets_its_own_copy(redis: RedisClient) -> None:
    first, second = Recorder(), Recorder()
    a = Consumer(redis, "booking", Subscriptions().on_delivery(PaymentSucceeded, first))
    b = Consumer(redis, "notification", Subscriptions().on_delivery(PaymentSucceeded, second))
    await a.ensure_groups()
    await b.ensure_groups()
    await Bus(redis, "payment").publish(payment())
    await drain(a, 2)
    await drain(b, 2)
    assert len(first.seen) == len(second.seen) == 1


async def test_transient_failures_are_retried_with_backoff(redis: RedisClient) -> None:
    recorder = Recorder(fail_times=2)
    c = consumer(redis, recorder)
    await c.ensure_groups()
    await Bus(redis, "payment").publish(payment())
    await drain(c)
    assert recorder.attempts == 3
    assert len(recorder.seen) == 1
    assert await redis.client.xlen("deadletter:booking") == 0


async def test_a_poison_message_is_dead_lettered_and_the_rest_keep_flowing(
    redis: RedisClient,
) -> None:
    recorder = Recorder(fail_on={"p2"})
    c = consumer(redis, recorder)
    await c.ensure_groups()
    bus = Bus(redis, "payment")
    for n in (1, 2, 3):
        await bus.publish(payment(n))
    await drain(c)
    assert [fact.payment_id for fact in recorder.seen] == ["p1", "p3"]
    dead = await redis.client.xrange("deadletter:booking")
    assert len(dead) == 1
    fields = dead[0][1]
    assert Envelope.model_validate_json(fields[b"envelope"]).data["payment_id"] == "p2"
    assert fields[b"attempts"] == b"3"
    assert b"poison p2" in fields[b"error"]
    assert (await redis.client.xpending("facts:payment", "booking"))["pending"] == 0


async def test_unreadable_and_permanent_failures_go_straight_to_dead_letters(
    redis: RedisClient,
) -> None:
    async def refuse(envelope: Envelope, fact: Any) -> None:
        raise PermanentFailure("mailbox does not exist")

    c = Consumer(
        redis,
        "booking",
        Subscriptions().on_delivery(PaymentSucceeded, refuse).on_delivery(PaymentFailed, refuse),
    )
    await c.ensure_groups()
    await redis.client.xadd("facts:payment", {"envelope": b"{not json"})
    await Bus(redis, "payment").publish(payment())
    await drain(c, 2)
    dead = await redis.client.xrange("deadletter:booking")
    assert [entry[1][b"attempts"] for entry in dead] == [b"1", b"1"]
    assert b"unreadable" in dead[0][1][b"error"]
    assert dead[1][1][b"error"] == b"mailbox does not exist"


async def test_facts_nobody_handles_are_acknowledged(redis: RedisClient) -> None:
    recorder = Recorder()
    c = consumer(redis, recorder)
    await c.ensure_groups()
    await Bus(redis, "payment").publish(PaymentFailed(payment_id="p", booking_id="b"))
    await drain(c, 2)
    assert recorder.seen == []
    assert (await redis.client.xpending("facts:payment", "booking"))["pending"] == 0


async def test_a_consumer_killed_mid_message_is_taken_over(
    redis: RedisClient, redis_url: str
) -> None:
    group = f"g-{uuid.uuid4().hex[:6]}"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("bus_worker.py")), redis_url, group
    )
    try:
        envelope = None
        for _ in range(100):  # the worker creates its group on start; publish once it exists
            groups = (
                await redis.client.xinfo_groups("facts:payment")
                if await redis.client.exists("facts:payment")
                else []
            )
            if any(g["name"] == group.encode() for g in groups):
                envelope = await Bus(redis, "payment").publish(payment(9))
                break
            await asyncio.sleep(0.05)
        assert envelope is not None, "worker never joined"
        for _ in range(100):
            if await redis.client.get(f"started:{envelope.id}"):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("worker never started the message")
    finally:
        worker.kill()  # SIGKILL mid-message: no ack, no cleanup
        await worker.wait()

    recorder = Recorder()
    survivor = Consumer(
        redis, group, Subscriptions().on_delivery(PaymentSucceeded, recorder), claim_idle_s=0.3
    )
    await survivor.ensure_groups()
    for _ in range(40):
        await survivor.reclaim_abandoned("facts:payment")
        if recorder.seen:
            break
        await asyncio.sleep(0.05)
    assert recorder.seen == [payment(9)]
    assert (await redis.client.xpending("facts:payment", group))["pending"] == 0


async def test_the_run_loop_delivers_and_stops_on_cancel(redis: RedisClient) -> None:
    recorder = Recorder()
    c = consumer(redis, recorder, block_ms=50)
    task = asyncio.create_task(c.run())
    try:
        await asyncio.sleep(0.1)
        await Bus(redis, "payment").publish(payment(4))
        for _ in range(50):
            if recorder.seen:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert recorder.seen == [payment(4)]


async def test_a_flushed_redis_is_survived_the_group_is_recreated(redis: RedisClient) -> None:
    """The stream (and its group) vanish under a running consumer, even mid-read: it recreates
    them and delivers what is published afterwards, instead of crashing."""
    recorder = Recorder()
    c = consumer(redis, recorder, block_ms=200)
    task = asyncio.create_task(c.run())
    try:
        bus = Bus(redis, "payment")
        await bus.publish(payment(1))
        for _ in range(100):
            if recorder.seen:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # back in its blocking read
        await redis.client.flushdb()  # this test's own database: everything is gone
        for _ in range(100):  # recreated (the first read after the loss fails)
            if await redis.client.exists("facts:payment"):
                break
            await asyncio.sleep(0.02)
        await bus.publish(payment(2))
        for _ in range(200):
            if len(recorder.seen) == 2:
                break
            await asyncio.sleep(0.02)
        assert recorder.seen == [payment(1), payment(2)]
        assert not task.done()  # still running: nothing crashed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_dead_letters_are_listed_and_replayed(redis: RedisClient, redis_url: str) -> None:
    recorder = Recorder(fail_on={"p2"})
    c = consumer(redis, recorder)
    await c.ensure_groups()
    bus = Bus(redis, "payment")
    for n in (1, 2):
        await bus.publish(payment(n))
    await drain(c)
    letters = DeadLetters(redis.client)
    assert await letters.groups() == ["booking"]
    (dead,) = await letters.entries("booking")
    assert dead.summary["type"] == "payment.succeeded"
    assert dead.stream == "facts:payment"
    assert dead.attempts == 3

    listed = await _command(redis_url, "list")
    assert listed.returncode == 0, listed.stderr
    assert dead.entry_id in listed.stdout
    assert "payment.succeeded" in listed.stdout
    assert "poison p2" in listed.stdout
    assert "1 dead letter(s) in 1 group(s)" in listed.stdout

    recorder.fail_on.clear()  # the cause is fixed
    missing = await _command(redis_url, "replay", "--group", "booking", "--id", "1-1")
    assert missing.returncode == 1  # nothing by that id
    replayed = await _command(redis_url, "replay", "--group", "booking", "--id", dead.entry_id)
    assert replayed.returncode == 0, replayed.stderr
    assert "1 replayed" in replayed.stdout
    await drain(c)
    assert [fact.payment_id for fact in recorder.seen] == ["p1", "p2"]  # p1 not again
    assert await letters.entries("booking") == []


async def _command(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ticketing_common.deadletters", *args],
        env={**os.environ, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


async def test_subscriptions_hand_each_handler_its_facts_schema(redis: RedisClient) -> None:
    """`on(PaymentSucceeded, handler)`: the handler gets the typed fact; one handler a fact."""
    seen: list[Any] = []

    async def on_payment(fact: PaymentSucceeded) -> None:
        seen.append(fact)

    subscriptions = Subscriptions().on(PaymentSucceeded, on_payment)
    with pytest.raises(ValueError, match=r"payment\.succeeded has a handler already"):
        subscriptions.on(PaymentSucceeded, on_payment)
    c = Consumer(redis, "typed", subscriptions)
    assert c.streams == ["facts:payment"]
    await c.ensure_groups()
    await Bus(redis, "payment").publish(payment(7))
    await drain(c, rounds=5)
    assert seen == [payment(7)]
