"""Keeps the index in step with the events service's facts."""

from __future__ import annotations

import logging
from typing import Any

from ticketing_common.bus import PermanentFailure, Subscriptions
from ticketing_common.facts import (
    Envelope,
    EventCancelled,
    EventFact,
    EventPublished,
    EventUpdated,
)

from ticketing_search.backend import DocumentRejected, SearchBackend
from ticketing_search.model import SearchDocument

log = logging.getLogger(__name__)


class Indexer:
    def __init__(self, backend: SearchBackend) -> None:
        self.backend = backend

    def subscriptions(self) -> Subscriptions:
        return (
            Subscriptions()
            .on_delivery(EventPublished, self.on_event)
            .on_delivery(EventUpdated, self.on_event)
            .on_delivery(EventCancelled, self.on_event)
        )

    async def on_event(self, envelope: Envelope, fact: Any) -> None:
        # The envelope's time versions the write: a redelivered or overtaken fact is a no-op.
        try:
            if isinstance(fact, EventFact):
                document = SearchDocument.from_fact(fact)
                if document.listed:
                    await self.backend.upsert(document, envelope.occurred_at)
                else:
                    await self.backend.remove(document.event_id, envelope.occurred_at)
            elif isinstance(fact, EventCancelled):
                await self.backend.remove(fact.event_id, envelope.occurred_at)
        except DocumentRejected as exc:
            raise PermanentFailure(f"the index rejects event {envelope.id}: {exc}") from exc
        log.info("indexed", extra={"type": envelope.type, "event_id": fact.event_id})
