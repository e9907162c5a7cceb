"""The event lifecycle: draft → on_sale (publish) → cancelled, who may do what, and the facts.

Every change and the fact describing it commit in one transaction (the outbox); the relay
publishes the fact afterwards.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from ticketing_common.errors import PeerUnavailable
from ticketing_common.facts import EventCancelled, EventFact, EventPublished, EventUpdated
from ticketing_common.outbox import add_fact
from ticketing_common.problems import ProblemType, conflict, forbidden, not_found, unprocessable
from ticketing_common.security import Principal

from ticketing_events import repository
from ticketing_events.clients import InventoryClient, LayoutMismatch
from ticketing_events.pricing import currency_of, min_price_cents
from ticketing_events.readcache import ReadCache
from ticketing_events.rules import (
    check_section_tiers,
    check_starts_in_future,
    check_waiting_room,
)
from ticketing_events.schemas import EventIn, WaitingRoomSettingsIn
from ticketing_events.tables import outbox
from ticketing_events.venues import VenueCache, inventory_layout

log = logging.getLogger(__name__)

SOURCE = "events"
EDITABLE = tuple(EventIn.model_fields)


def can_manage(user: Principal | None, event: dict[str, Any]) -> bool:
    return user is not None and (user.is_admin or user.user_id == event["organizer_id"])


def event_fact(kind: type[EventFact], event: dict[str, Any], venue: dict[str, Any]) -> EventFact:
    return kind(
        event_id=event["event_id"],
        organizer_id=event["organizer_id"],
        title=event["title"],
        description=event["description"],
        category=event["category"],
        status=event["status"],
        venue_id=event["venue_id"],
        venue_name=venue["name"],
        city=event["city"],
        country=venue["country"],
        starts_at=event["starts_at"],
        ends_at=event["ends_at"],
        currency=currency_of(event),
        min_price_cents=min_price_cents(event),
    )


def check_visible(user: Principal | None, event: dict[str, Any] | None, event_id: str) -> None:
    """Drafts exist only for their owner and admins."""
    if event is None or (event["status"] == "draft" and not can_manage(user, event)):
        raise not_found("Event", event_id)


class Events:
    def __init__(
        self, db: AsyncSession, inventory: InventoryClient, venues: VenueCache, reads: ReadCache
    ) -> None:
        self.db = db
        self.inventory = inventory
        self.venues = venues
        self.reads = reads

    async def _managed(self, user: Principal, event_id: str) -> dict[str, Any]:
        """The event, locked for this transaction, if `user` may change it."""
        event = await repository.event(self.db, event_id, for_update=True)
        check_visible(user, event, event_id)
        assert event is not None
        if not can_manage(user, event):
            raise forbidden("Only the event's organizer or an admin may change it")
        return event

    # --- changing --------------------------------------------------------------------------

    async def create(self, user: Principal, body: EventIn) -> dict[str, Any]:
        now = datetime.now(UTC)
        check_starts_in_future(body.starts_at, now)
        venue = await self._venue_for(body)
        fields = body.model_dump(mode="json") | {
            "starts_at": body.starts_at,
            "ends_at": body.ends_at,
        }
        event = await repository.insert_event(
            self.db,
            event_id=str(uuid.uuid4()),
            organizer_id=user.user_id,
            status="draft",
            city=venue["city"],
            **fields,
        )
        await self.db.commit()
        log.info("event created", extra={"event_id": event["event_id"]})
        return event

    async def update(
        self, user: Principal, event_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Apply a partial EventIn to a draft; the merged event must be valid as a whole."""
        try:
            event = await self._managed(user, event_id)
            if event["status"] != "draft":
                raise conflict(
                    f"Only draft events can be edited; this one is {event['status']}",
                    slug=ProblemType.NOT_A_DRAFT,
                )
            current = {field: event[field] for field in EDITABLE}
            try:
                merged = EventIn.model_validate(current | changes)
            except ValidationError as exc:
                raise unprocessable(
                    *(
                        (["body", *error["loc"]], error["msg"], error["type"])
                        for error in exc.errors()
                    )
                ) from None
            if "starts_at" in changes:
                check_starts_in_future(merged.starts_at, datetime.now(UTC))
            venue = await self._venue_for(merged)
            values = merged.model_dump(mode="json") | {
                "starts_at": merged.starts_at,
                "ends_at": merged.ends_at,
                "city": venue["city"],
            }
            if all(event[key] == value for key, value in values.items()):
                await self.db.rollback()
                return event  # nothing changed: no write, no fact
            updated = await repository.update_event(self.db, event_id, **values)
            await add_fact(self.db, outbox, event_fact(EventUpdated, updated, venue), SOURCE)
            await self.db.commit()
            self.reads.clear()
        except Exception:
            await self.db.rollback()
            raise
        return updated

    async def publish(self, user: Principal, event_id: str) -> dict[str, Any]:
        """Put a draft on sale. Inventory holds the seats before the event says `on_sale`; if
        inventory cannot be reached nothing changes here (503) and the caller may retry."""
        try:
            event = await self._managed(user, event_id)  # the row lock serialises publishes
            if event["status"] == "on_sale":
                await self.db.rollback()
                return event  # publishing twice is harmless
            if event["status"] == "cancelled":
                raise conflict(
                    "A cancelled event cannot be published", slug=ProblemType.EVENT_CANCELLED
                )
            if event["starts_at"] <= datetime.now(UTC):
                raise conflict("The event has already started", slug=ProblemType.EVENT_STARTED)
            venue = await self.venues.get(self.db, event["venue_id"])
            assert venue is not None  # foreign key
            layout = inventory_layout(venue["sections"], event["section_tiers"])
            try:
                await self.inventory.initialise(event_id, layout)
            except LayoutMismatch:
                # A publish that reached inventory but never committed here, then an edit of the
                # draft: inventory holds a stale layout of an event that never went on sale, so
                # nothing can have been sold from it. Replace it.
                log.warning("replacing a stale inventory layout", extra={"event_id": event_id})
                await self.inventory.replace_layout(event_id, layout)
            published = await repository.update_event(
                self.db, event_id, status="on_sale", published_at=datetime.now(UTC)
            )
            await add_fact(self.db, outbox, event_fact(EventPublished, published, venue), SOURCE)
            await self.db.commit()
            self.reads.clear()
        except Exception:
            await self.db.rollback()
            raise
        log.info("event published", extra={"event_id": event_id})
        return published

    async def cancel(self, user: Principal, event_id: str) -> dict[str, Any]:
        """Cancel for good. The event.cancelled fact drives refunds; inventory stops selling now,
        or — if it cannot be reached — when InventoryCloser retries."""
        try:
            event = await self._managed(user, event_id)
            if event["status"] == "cancelled":
                await self.db.rollback()
            else:
                event = await repository.update_event(
                    self.db, event_id, status="cancelled", cancelled_at=datetime.now(UTC)
                )
                fact = EventCancelled(event_id=event_id, organizer_id=event["organizer_id"])
                await add_fact(self.db, outbox, fact, SOURCE)
                await self.db.commit()
                self.reads.clear()
                log.info("event cancelled", extra={"event_id": event_id})
        except Exception:
            await self.db.rollback()
            raise
        if event["published_at"] is not None and event["inventory_closed_at"] is None:
            await close_inventory(self.db, self.inventory, event_id)
        return event

    async def configure_waiting_room(
        self, user: Principal, event_id: str, body: WaitingRoomSettingsIn
    ) -> dict[str, Any]:
        """Replace the event's waiting-room settings (its organizer or an admin). The gateway
        picks the change up within its refresh interval."""
        try:
            event = await self._managed(user, event_id)
            if event["status"] == "cancelled":
                raise conflict(
                    "A cancelled event sells nothing: it needs no waiting room",
                    slug=ProblemType.EVENT_CANCELLED,
                )
            check_waiting_room(body.enabled, body.opens_at)
            room = await repository.put_waiting_room(self.db, event_id, **body.model_dump())
            await self.db.commit()
            self.reads.clear()
        except Exception:
            await self.db.rollback()
            raise
        log.info(
            "waiting room configured",
            extra={"event_id": event_id, "enabled": room["enabled"]},
        )
        return room

    async def _venue_for(self, body: EventIn) -> dict[str, Any]:
        """The event's venue, marked in use (no more edits) in this transaction."""
        venue = self.venues.cached(body.venue_id) or await repository.claim_venue(
            self.db, body.venue_id
        )
        if venue is None:
            raise unprocessable(
                (["body", "venue_id"], f"no venue {body.venue_id!r}", "unknown_venue")
            )
        check_section_tiers(body.section_tiers, venue["sections"])
        return venue


async def close_inventory(db: AsyncSession, inventory: InventoryClient, event_id: str) -> bool:
    """Stop inventory selling a cancelled event and remember it did. False if inventory could
    not be told now (the closer retries)."""
    try:
        await inventory.close(event_id)
    except PeerUnavailable as exc:
        log.warning(
            "inventory not closed yet; will retry", extra={"event_id": event_id, "error": str(exc)}
        )
        return False
    await repository.mark_inventory_closed(db, event_id)
    await db.commit()
    return True
