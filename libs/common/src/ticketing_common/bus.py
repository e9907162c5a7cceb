"""The event bus on Redis Streams.

- `Bus.publish` appends an envelope to its stream (`facts:<domain>`).
- `Consumer` reads with one consumer group per consuming service: at-least-once delivery,
  idempotent by envelope id (a per-group claim record), retries with exponential back-off,
  a dead-letter stream after `max_attempts`, and messages left pending by a crashed consumer
  are taken over (XAUTOCLAIM) once idle for `claim_idle_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ticketing_common.facts import Envelope, FactData, stream_of
from ticketing_common.logging import request_id_var
from ticketing_common.redis import RedisClient
from ticketing_common.resources import Resource
from ticketing_common.settings import ConsumerSettings
from ticketing_common.tracing import Tracing

log = logging.getLogger(__name__)

Handler = Callable[[Envelope, Any], Awaitable[None]]
DEAD_LETTER_PREFIX = "deadletter:"
F = TypeVar("F", bound=FactData)


class Subscriptions:
    """Which fact drives which handler, typed by the fact's schema:
    `Subscriptions().on(PaymentSucceeded, saga.payment_succeeded)`. An `on` handler takes the
    fact; an `on_delivery` handler also the envelope (its id, its time). One handler a fact."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def on(self, kind: type[F], handler: Callable[[F], Awaitable[None]]) -> Subscriptions:
        async def run(envelope: Envelope, fact: Any) -> None:
            await handler(fact)

        return self._add(kind, run)

    def on_delivery(
        self, kind: type[F], handler: Callable[[Envelope, F], Awaitable[None]]
    ) -> Subscriptions:
        return self._add(kind, handler)

    def _add(self, kind: type[FactData], handler: Handler) -> Subscriptions:
        if kind.type in self._handlers:
            raise ValueError(f"{kind.type} has a handler already")
        self._handlers[kind.type] = handler
        return self

    def handler(self, fact_type: str) -> Handler | None:
        return self._handlers.get(fact_type)

    @property
    def fact_types(self) -> list[str]:
        return sorted(self._handlers)


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the message goes to the dead letters now."""


class Bus(Resource):
    """Publishes facts. Shares the service's Redis client (start it first)."""

    name = "bus"

    def __init__(
        self, redis: RedisClient, source: str, *, max_stream_length: int = 1_000_000
    ) -> None:
        self.redis = redis
        self.source = source
        self.max_stream_length = max_stream_length

    async def publish(self, fact: FactData) -> Envelope:
        envelope = Envelope.of(fact, self.source)
        await self.publish_envelope(envelope)
        return envelope

    async def publish_envelope(self, envelope: Envelope) -> str:
        entry_id = await self.redis.client.xadd(**self._entry(envelope))
        return _text(entry_id)

    async def publish_envelopes(self, envelopes: Sequence[Envelope]) -> list[str]:
        """Several facts in one round trip, published in order (an outbox relay's batch)."""
        async with self.redis.client.pipeline(transaction=False) as pipe:
            for envelope in envelopes:
                pipe.xadd(**self._entry(envelope))
            return [_text(entry_id) for entry_id in await pipe.execute()]

    def _entry(self, envelope: Envelope) -> dict[str, Any]:
        """XADD's arguments (the stream trimmed to about its bound)."""
        return {
            "name": envelope.stream,
            "fields": {"envelope": envelope.model_dump_json()},
            "maxlen": self.max_stream_length,
            "approximate": True,
        }

    async def check(self) -> None:
        await self.redis.client.ping()


@dataclass(frozen=True)
class Delivery:
    stream: str
    entry_id: str
    fields: Mapping[Any, bytes]
    deliveries: int
    takeover: bool = False  # reclaimed from a consumer presumed dead


class Consumer:
    """Runs the handlers of its subscriptions, as one member of the consumer group `group`.

    `run(app)` is a background loop for `create_service_app(background=[...])`.
    """

    def __init__(
        self,
        redis: RedisClient,
        group: str,
        subscriptions: Subscriptions,
        *,
        consumer_name: str | None = None,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        claim_idle_s: float = 30.0,
        block_ms: int = 1000,
        batch_size: int = 32,
        dedupe_ttl_s: int = 7 * 86_400,
    ) -> None:
        self.redis = redis
        self.group = group
        self.subscriptions = subscriptions
        self.name = consumer_name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.claim_idle_s = claim_idle_s
        self.block_ms = block_ms
        self.batch_size = batch_size
        self.dedupe_ttl_s = dedupe_ttl_s
        self.streams = sorted({stream_of(fact_type) for fact_type in subscriptions.fact_types})
        self.dead_letters = DEAD_LETTER_PREFIX + group
        self._in_flight: set[str] = set()
        self.tracing: Tracing | None = None  # the app's (run() picks it up)

    @classmethod
    def from_settings(
        cls,
        redis: RedisClient,
        group: str,
        subscriptions: Subscriptions,
        settings: ConsumerSettings,
    ) -> Consumer:
        """The service's consumer as its settings say (BUS_MAX_ATTEMPTS, BUS_BACKOFF_S, ...)."""
        return cls(
            redis,
            group,
            subscriptions,
            max_attempts=settings.bus_max_attempts,
            backoff_s=settings.bus_backoff_s,
            max_backoff_s=settings.bus_max_backoff_s,
            claim_idle_s=settings.bus_claim_idle_s,
        )

    @property
    def _redis(self) -> Any:
        # redis-py's stream command typing does not describe its replies; treat them as data.
        return self.redis.client

    async def run(self, app: FastAPI | None = None) -> None:
        if app is not None:
            self.tracing = getattr(app.state, "tracing", None)
        await self.ensure_groups()
        await asyncio.gather(*(self._stream_loop(stream) for stream in self.streams))

    async def ensure_groups(self) -> None:
        for stream in self.streams:
            # From the start of the stream: a group created late still sees earlier facts.
            await self._recreate(stream)

    async def _stream_loop(self, stream: str) -> None:
        next_sweep = 0.0
        while True:
            try:
                if time.monotonic() >= next_sweep:
                    await self.retry_pending(stream)
                    await self.reclaim_abandoned(stream)
                    next_sweep = time.monotonic() + min(self.backoff_s, self.claim_idle_s)
                await self.read_new(stream, block_ms=self.block_ms)
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("bus: redis unavailable; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
            except ResponseError as exc:
                if not _vanished(exc):
                    raise
                # Redis lost the stream or the group (a flush, a failover, a node replaced):
                # what was in it is gone; what is published from now on must still arrive.
                log.error(
                    "bus: stream or consumer group vanished (Redis lost data?); recreating it",
                    extra={"group": self.group, "stream": stream, "error": str(exc)},
                )
                await self._recreate(stream)

    async def _recreate(self, stream: str) -> None:
        try:
            await self._redis.xgroup_create(stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_new(self, stream: str, block_ms: int | None = None) -> int:
        """Deliver messages never delivered to this group. Returns how many were handled."""
        reply = await self._redis.xreadgroup(
            self.group, self.name, {stream: ">"}, count=self.batch_size, block=block_ms
        )
        handled = 0
        for _, entries in reply or []:
            for entry_id, fields in entries:
                await self._deliver(Delivery(stream, _text(entry_id), fields, 1))
                handled += 1
        return handled

    async def retry_pending(self, stream: str) -> None:
        """Re-run this consumer's failed messages once their back-off has passed."""
        pending = await self._redis.xpending_range(
            stream, self.group, min="-", max="+", count=100, consumername=self.name
        )
        for item in pending:
            entry_id = _text(item["message_id"])
            deliveries = int(item["times_delivered"])
            if entry_id in self._in_flight:
                continue
            if item["time_since_delivered"] < self._backoff_ms(deliveries):
                continue
            claimed = await self._redis.xclaim(
                stream,
                self.group,
                self.name,
                min_idle_time=self._backoff_ms(deliveries),
                message_ids=[entry_id],
            )
            for claimed_id, fields in claimed:
                await self._deliver(
                    Delivery(stream, _text(claimed_id), fields or {}, deliveries + 1)
                )

    async def reclaim_abandoned(self, stream: str) -> None:
        """Take over messages another consumer left pending for longer than `claim_idle_s`
        (it crashed or hung)."""
        start = "0-0"
        while True:
            reply = await self._redis.xautoclaim(
                stream,
                self.group,
                self.name,
                min_idle_time=int(self.claim_idle_s * 1000),
                start_id=start,
                count=self.batch_size,
            )
            start, claimed = _text(reply[0]), reply[1]
            for entry_id, fields in claimed:
                deliveries = await self._deliveries(stream, _text(entry_id))
                await self._deliver(
                    Delivery(stream, _text(entry_id), fields or {}, deliveries, takeover=True)
                )
            if start == "0-0" or not claimed:
                return

    async def _deliveries(self, stream: str, entry_id: str) -> int:
        pending = await self._redis.xpending_range(
            stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    def _backoff_ms(self, deliveries: int) -> int:
        return int(min(self.backoff_s * 2 ** max(deliveries - 1, 0), self.max_backoff_s) * 1000)

    async def _deliver(self, delivery: Delivery) -> None:
        if not delivery.fields:  # trimmed from the stream while pending: nothing left to do
            await self._ack(delivery)
            return
        self._in_flight.add(delivery.entry_id)
        try:
            await self._handle(delivery)
        finally:
            self._in_flight.discard(delivery.entry_id)

    async def _handle(self, delivery: Delivery) -> None:
        try:
            envelope = Envelope.model_validate_json(delivery.fields[b"envelope"])
            handler = self.subscriptions.handler(envelope.type)
            fact = envelope.fact() if handler else None
        except (KeyError, ValidationError, ValueError) as exc:
            await self._dead_letter(delivery, f"unreadable message: {exc!r}")
            return
        if handler is None:  # a fact this group does not care about
            await self._ack(delivery)
            return
        marker = f"bus:done:{self.group}:{envelope.id}"
        # Claim the envelope for this group: duplicates (a relay that published twice) and
        # redeliveries of finished work are acknowledged without running the handler again.
        lease = max(int(self.claim_idle_s), 1)
        if not await self._redis.set(marker, "running", nx=True, ex=lease):
            if await self._redis.get(marker) == b"done":
                await self._ack(delivery)
                return
            if not delivery.takeover:
                return  # another member is on it right now; it stays pending until it finishes
            await self._redis.set(marker, "running", ex=lease)  # its holder is presumed dead
        token = request_id_var.set(envelope.trace.request_id)
        traced = (
            self.tracing.consuming(envelope.trace.trace_header, f"{self.group} {envelope.type}")
            if self.tracing is not None
            else contextlib.nullcontext()
        )
        try:
            with traced:  # the handler joins the trace of the request that published the fact
                await handler(envelope, fact)
        except PermanentFailure as exc:
            await self._redis.delete(marker)
            await self._dead_letter(delivery, str(exc) or type(exc).__name__, envelope)
            return
        except Exception as exc:
            await self._redis.delete(marker)
            if delivery.deliveries >= self.max_attempts:
                await self._dead_letter(delivery, repr(exc), envelope)
            else:
                log.warning(
                    "bus: handler failed; will retry",
                    extra={
                        "group": self.group,
                        "type": envelope.type,
                        "envelope_id": envelope.id,
                        "attempt": delivery.deliveries,
                        "error": repr(exc),
                    },
                )
            return
        finally:
            request_id_var.reset(token)
        # One round trip for both (a crash between them is a redelivery the marker answers).
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(marker, "done", ex=self.dedupe_ttl_s)
            pipe.xack(delivery.stream, self.group, delivery.entry_id)
            await pipe.execute()

    async def _ack(self, delivery: Delivery) -> None:
        await self._redis.xack(delivery.stream, self.group, delivery.entry_id)

    async def _dead_letter(
        self, delivery: Delivery, error: str, envelope: Envelope | None = None
    ) -> None:
        log.error(
            "bus: message dead-lettered",
            extra={
                "group": self.group,
                "stream": delivery.stream,
                "entry_id": delivery.entry_id,
                "type": envelope.type if envelope else None,
                "attempts": delivery.deliveries,
                "error": error,
            },
        )
        record: dict[bytes | str, Any] = {**delivery.fields}
        record.update(
            {
                "error": error,
                "stream": delivery.stream,
                "entry_id": delivery.entry_id,
                "attempts": str(delivery.deliveries),
            }
        )
        await self._redis.xadd(self.dead_letters, record)
        await self._ack(delivery)


def _vanished(error: ResponseError) -> bool:
    """Redis's answers when a stream or a group is not there (any more): NOGROUP from reads,
    acks and claims; UNBLOCKED for a read that was waiting on a stream that was deleted."""
    text = str(error)
    return text.startswith(("NOGROUP", "UNBLOCKED")) or "no longer exists" in text


@dataclass(frozen=True)
class DeadLetter:
    group: str
    entry_id: str  # in the group's dead-letter stream
    stream: str  # where the message came from
    envelope: str  # the message, as published (JSON)
    error: str
    attempts: int

    @property
    def summary(self) -> dict[str, Any]:
        try:
            envelope = Envelope.model_validate_json(self.envelope)
            kind, envelope_id = envelope.type, envelope.id
        except (ValidationError, ValueError):
            kind, envelope_id = "(unreadable)", ""
        return {"type": kind, "envelope_id": envelope_id}


class DeadLetters:
    """The dead letters of every consumer group: list them, replay them.

    A replay publishes the message again on the stream it came from and removes the dead letter.
    Every group reading that stream sees it again: the groups that handled it before recognise
    the envelope id (their dedupe record) and only acknowledge it."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def groups(self) -> list[str]:
        found = [_text(key) async for key in self.redis.scan_iter(match=DEAD_LETTER_PREFIX + "*")]
        return sorted(key.removeprefix(DEAD_LETTER_PREFIX) for key in found)

    async def entries(self, group: str, count: int = 100) -> list[DeadLetter]:
        entries = await self.redis.xrange(DEAD_LETTER_PREFIX + group, count=count)
        return [self._letter(group, entry_id, fields) for entry_id, fields in entries]

    async def replay(self, group: str, entry_ids: list[str] | None = None) -> list[DeadLetter]:
        """Replay the given dead letters of `group` (all of them when None); returns those
        replayed. An id that is not there is skipped."""
        key = DEAD_LETTER_PREFIX + group
        if entry_ids is None:
            letters = [self._letter(group, i, f) for i, f in await self.redis.xrange(key)]
        else:
            letters = []
            for entry_id in entry_ids:
                found = await self.redis.xrange(key, min=entry_id, max=entry_id)
                letters += [self._letter(group, i, f) for i, f in found]
        for letter in letters:
            await self.redis.xadd(letter.stream, {"envelope": letter.envelope})
            await self.redis.xdel(key, letter.entry_id)
        return letters

    @staticmethod
    def _letter(group: str, entry_id: Any, fields: Mapping[Any, Any]) -> DeadLetter:
        def field(name: str) -> str:
            value = fields.get(name.encode(), fields.get(name, b""))
            return _text(value)

        return DeadLetter(
            group=group,
            entry_id=_text(entry_id),
            stream=field("stream"),
            envelope=field("envelope"),
            error=field("error"),
            attempts=int(field("attempts") or 0),
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
