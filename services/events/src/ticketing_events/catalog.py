"""Reading events: the public listing, seat maps, and the internal views other services use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from ticketing_common.contracts import QuoteIn
from ticketing_common.facts import EventPublished
from ticketing_common.problems import forbidden, not_found
from ticketing_common.security import Principal

from ticketing_events import cursors, repository
from ticketing_events.clients import InventoryClient
from ticketing_events.events import check_visible, event_fact
from ticketing_events.pricing import currency_of, min_price_cents, quote
from ticketing_events.readcache import ReadCache
from ticketing_events.schemas import WAITING_ROOM_DEFAULTS, Event, EventPage
from ticketing_events.seatmap import EventLayout, LayoutCache
from ticketing_events.venues import VenueCache, inventory_layout, venue_view


def inventory_status(event: dict[str, Any]) -> str:
    """What inventory's state of a published event says about new holds."""
    return "closed" if event["status"] == "cancelled" else "open"


class Catalog:
    """`connect` opens the request's read connection on first use: a read answered from the
    caches opens none."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[repository.Reader]],
        inventory: InventoryClient,
        venues: VenueCache,
        reads: ReadCache,
        layouts: LayoutCache,
    ) -> None:
        self.connect = connect
        self.inventory = inventory
        self.venues = venues
        self.reads = reads
        self.layouts = layouts

    async def venue(self, venue_id: str) -> dict[str, Any]:
        row = await self._venue_row(venue_id)
        if row is None:
            raise not_found("Venue", venue_id)
        return venue_view(row)

    async def event(self, user: Principal | None, event_id: str) -> dict[str, Any]:
        """An event as `user` may see it (recent reads from memory)."""
        key = ("event", event_id)
        event: dict[str, Any] | None = self.reads.get(key)
        if event is None:
            event = await repository.event(await self.connect(), event_id)
            if event is not None:
                self.reads.put(key, event)
        check_visible(user, event, event_id)
        assert event is not None
        return event

    async def event_document(self, user: Principal | None, event_id: str) -> tuple[bytes, bool]:
        """The event as served (`Event`, rendered once per cache entry), and whether it is the
        same for everyone (anything but a draft, which only its organizer and admins see)."""
        event = await self.event(user, event_id)
        return self._rendered(("event-json", event_id), event, Event), event["status"] != "draft"

    async def on_sale_document(self, **query: Any) -> bytes:
        """A page of the listing as served (`EventPage`, rendered once per cache entry)."""
        page = await self.on_sale(**query)
        return self._rendered(("on_sale-json", *query.values()), page, EventPage)

    def _rendered(self, key: Hashable, value: Any, model: type[BaseModel]) -> bytes:
        body: bytes | None = self.reads.get(key)
        if body is None:
            body = model.model_validate(value).model_dump_json().encode()
            self.reads.put(key, body)
        return body

    async def on_sale(
        self,
        *,
        city: str | None,
        category: str | None,
        starts_after: datetime | None,
        starts_before: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        """A page of published events (recent pages from memory)."""
        key = ("on_sale", city, category, starts_after, starts_before, limit, cursor)
        cached: dict[str, Any] | None = self.reads.get(key)
        if cached is not None:
            return cached
        after = cursors.decode_event_position(cursor) if cursor else None
        rows = await repository.on_sale(
            await self.connect(),
            city=city,
            category=category.strip().lower() if category is not None else None,
            starts_after=starts_after,
            starts_before=starts_before,
            after=after,
            limit=limit + 1,  # one more than asked: is there a next page?
        )
        items, more = rows[:limit], len(rows) > limit
        next_cursor = None
        if more:
            last = items[-1]
            next_cursor = cursors.encode([last["starts_at"].isoformat(), last["event_id"]])
        page = {"items": items, "next_cursor": next_cursor}
        self.reads.put(key, page)
        return page

    async def managed(
        self,
        user: Principal,
        *,
        organizer_id: str | None,
        status: str | None,
        title: str | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        """Events in every status, newest first: an organizer's own; an admin's view is every
        organizer's (or one's); door staff see their organizer's published and cancelled events
        (never drafts). Never cached: an organizer sees their edit at once."""
        statuses: tuple[str, ...] | None = (status,) if status else None
        if user.role == "staff":
            if organizer_id not in (None, user.organizer_id) or status == "draft":
                raise forbidden("Door staff see only their organizer's published events")
            organizer_id, statuses = user.organizer_id, statuses or ("on_sale", "cancelled")
        elif not user.is_admin:
            if organizer_id not in (None, user.user_id):
                raise forbidden("Organizers list only their own events")
            organizer_id = user.user_id
        after = cursors.decode_event_position(cursor) if cursor else None
        rows = await repository.managed(
            await self.connect(),
            organizer_id=organizer_id,
            statuses=statuses,
            title=title.strip() if title else None,
            after=after,
            limit=limit + 1,
        )
        items, more = rows[:limit], len(rows) > limit
        next_cursor = None
        if more:
            last = items[-1]
            next_cursor = cursors.encode([last["created_at"].isoformat(), last["event_id"]])
        return {"items": items, "next_cursor": next_cursor}

    async def layout(self, user: Principal | None, event_id: str) -> tuple[EventLayout, bool]:
        """The event's layout as `user` may see it, and whether it is public (published: the
        same for everyone, and immutable)."""
        event = await self.event(user, event_id)
        layout = self.layouts.get(event, await self._venue(event))
        return layout, event["published_at"] is not None

    async def seatmap(self, user: Principal | None, event_id: str) -> bytes:
        """The contract's seat map: the cached layout with inventory's live seat states."""
        event = await self.event(user, event_id)
        layout = self.layouts.get(event, await self._venue(event))
        bits = None
        if event["published_at"] is not None:
            bits = await self.inventory.availability_bits(event_id)
        return layout.seatmap(event["status"], bits)

    async def waiting_room(
        self, user: Principal | None, event_id: str
    ) -> tuple[dict[str, Any], bool]:
        """The event's waiting-room settings (the defaults, off, until configured), and whether
        they are the same for everyone (not a draft's). Read on every visit to an event's page
        during an on-sale: recent reads from memory."""
        event = await self.event(user, event_id)  # 404 unless the caller may see the event
        key = ("waiting-room", event_id)
        room: dict[str, Any] | None = self.reads.get(key)
        if room is None:
            found = await repository.waiting_room(await self.connect(), event_id)
            room = found or {"event_id": event_id, **WAITING_ROOM_DEFAULTS}
            self.reads.put(key, room)
        return room, event["status"] != "draft"

    async def waiting_rooms_on(self) -> dict[str, Any]:
        return {"items": await repository.waiting_rooms_on(await self.connect())}

    async def internal_view(self, event_id: str) -> dict[str, Any]:
        """The event in any status, with what booking needs to price and describe it."""
        event = await self._event(event_id)
        venue = await self._venue(event)
        return event | {
            "venue_name": venue["name"],
            "currency": currency_of(event),
            "min_price_cents": min_price_cents(event),
        }

    async def quote(self, event_id: str, ask: QuoteIn) -> dict[str, Any]:
        event = await self._event(event_id)
        venue = await self._venue(event)
        return quote(event, venue["sections"], ask)

    async def search_documents(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """Every published event as its event.published fact data, for a full reindex."""
        after = cursors.decode_id_position(cursor) if cursor else None
        rows = await repository.on_sale_with_venues(
            await self.connect(), after_event_id=after, limit=limit + 1
        )
        items = [
            event_fact(
                EventPublished, row, {"name": row["venue_name"], "country": row["country"]}
            ).model_dump(mode="json")
            for row in rows[:limit]
        ]
        next_cursor = cursors.encode([rows[limit - 1]["event_id"]]) if len(rows) > limit else None
        return {"items": items, "next_cursor": next_cursor}

    async def inventory_events(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """Every event inventory must hold state for (it rebuilds lost state from these)."""
        after = cursors.decode_id_position(cursor) if cursor else None
        rows = await repository.published(
            await self.connect(), after_event_id=after, limit=limit + 1
        )
        items = [
            {"event_id": row["event_id"], "status": inventory_status(row)} for row in rows[:limit]
        ]
        next_cursor = cursors.encode([rows[limit - 1]["event_id"]]) if len(rows) > limit else None
        return {"items": items, "next_cursor": next_cursor}

    async def inventory_layout(self, event_id: str) -> dict[str, Any]:
        """A published event's seats as inventory is initialised with them, and whether it still
        sells (drafts have no inventory: 404)."""
        event = await self._event(event_id)
        if event["published_at"] is None:
            raise not_found("Published event", event_id)
        venue = await self._venue(event)
        return {
            "event_id": event_id,
            "status": inventory_status(event),
            "layout": inventory_layout(venue["sections"], event["section_tiers"]),
        }

    async def _event(self, event_id: str) -> dict[str, Any]:
        event = await repository.event(await self.connect(), event_id)
        if event is None:
            raise not_found("Event", event_id)
        return event

    async def _venue(self, event: dict[str, Any]) -> dict[str, Any]:
        venue = await self._venue_row(event["venue_id"])
        assert venue is not None  # foreign key
        return venue

    async def _venue_row(self, venue_id: str) -> dict[str, Any] | None:
        # From memory without opening a connection; the database only on a miss.
        return self.venues.cached(venue_id) or await self.venues.get(await self.connect(), venue_id)
