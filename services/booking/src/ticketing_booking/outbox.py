"""The transactional outbox, in DynamoDB.

A fact is written as an outbox item in the same TransactWriteItems as the change it describes, so
it exists exactly when the change does. Right after the commit the writer publishes it and
deletes the item (the fast path); if the process dies in between, the relay finds the item and
publishes it later. A crash between publishing and deleting republishes the same envelope id,
which consumers deduplicate.

Finding leftover items without scanning the table: outbox items carry `event_id =
"__outbox__#<shard>"`, so they sit in a few reserved partitions of the existing `event-index`
(GSI overloading); the partitions stay small because published items are deleted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from ticketing_common.bus import Bus
from ticketing_common.facts import Envelope, FactData

from ticketing_booking.dynamo import EVENT_INDEX, DynamoDB, from_attributes, shard_of, to_attributes

log = logging.getLogger(__name__)

OUTBOX_PREFIX = "outbox#"
OUTBOX_PARTITION = "__outbox__#"
SHARDS = 4  # reserved event-index partitions; each relay round queries them all
SOURCE = "booking"


class Outbox:
    def __init__(
        self, dynamo: DynamoDB, bus: Bus, *, min_age_s: float = 2.0, interval_s: float = 1.0
    ) -> None:
        self.dynamo = dynamo
        self.bus = bus
        self.min_age = timedelta(seconds=min_age_s)
        self.interval_s = interval_s

    @staticmethod
    def envelopes(facts: Sequence[FactData]) -> list[Envelope]:
        return [Envelope.of(fact, SOURCE) for fact in facts]

    def puts(self, envelopes: list[Envelope]) -> list[dict[str, Any]]:
        """The TransactWriteItems operations that record `envelopes`."""
        now = datetime.now(UTC).isoformat()
        return [
            {
                "Put": {
                    "TableName": self.dynamo.table,
                    "Item": to_attributes(
                        {
                            "booking_id": OUTBOX_PREFIX + envelope.id,
                            "kind": "outbox",
                            "event_id": OUTBOX_PARTITION + str(shard_of(envelope.id, SHARDS)),
                            "envelope": envelope.model_dump_json(),
                            "created_at": now,
                        }
                    ),
                }
            }
            for envelope in envelopes
        ]

    async def flush(self, envelopes: list[Envelope]) -> None:
        """The fast path, after the commit. A failure here is left to the relay."""
        for envelope in envelopes:
            try:
                await self.bus.publish_envelope(envelope)
                await self._delete(envelope.id)
            except Exception as exc:
                log.warning(
                    "outbox: publish deferred to the relay",
                    extra={"envelope_id": envelope.id, "error": repr(exc)},
                )
                return

    async def relay_once(self) -> int:
        """Publish items older than `min_age` (the fast path had its chance), oldest first."""
        cutoff = (datetime.now(UTC) - self.min_age).isoformat()
        items: list[dict[str, Any]] = []
        for shard in range(SHARDS):
            items.extend(await self._items(OUTBOX_PARTITION + str(shard), cutoff))
        items.sort(key=lambda item: item["created_at"])
        for item in items:
            envelope = Envelope.model_validate_json(item["envelope"])
            await self.bus.publish_envelope(envelope)
            await self._delete(envelope.id)
        return len(items)

    async def run(self, app: FastAPI | None = None) -> None:
        while True:
            try:
                if await self.relay_once():
                    log.info("outbox: relayed facts left unpublished")
            except Exception as exc:
                log.warning("outbox: relay round failed", extra={"error": repr(exc)})
            await asyncio.sleep(self.interval_s)

    async def _items(self, partition: str, cutoff: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {
            "TableName": self.dynamo.table,
            "IndexName": EVENT_INDEX,
            "KeyConditionExpression": "event_id = :p",
            "FilterExpression": "created_at <= :cutoff",
            "ExpressionAttributeValues": to_attributes({":p": partition, ":cutoff": cutoff}),
        }
        while True:
            page = await self.dynamo.client.query(**arguments)
            found.extend(from_attributes(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _delete(self, envelope_id: str) -> None:
        await self.dynamo.client.delete_item(
            TableName=self.dynamo.table,
            Key=to_attributes({"booking_id": OUTBOX_PREFIX + envelope_id}),
        )
