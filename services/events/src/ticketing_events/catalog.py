"""Reading events: the public listing, seat maps, and the internal views other services use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from ticketing_common.database import Database
from ticketing_common.facts import EventPublished
from ticketing_common.http_cache import etag_of
from ticketing_common.problems import forbidden, not_found
from ticketing_common.security import Principal

from ticketing_events import cursors, repository
from ticketing_events.clients import InventoryClient
from ticketing_events.events import check_visible, event_fact
from ticketing_events.pricing import currency_of, min_price_cents
from ticketing_events.readcache import ReadCache
from ticketing_events.schemas import WAITING_ROOM_DEFAULTS, Event, EventPage, InternalEvent
from ticketing_events.seatmap import EventLayout, LayoutCache
from ticketing_events.venues import VenueCache, inventory_layout, venue_view

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Document:
    """A representation as served, with its strong validator (computed once)."""

    body: bytes
    etag: str


def inventory_status(event: dict[str, Any]) -> str:
    """What inventory's state of a published event says about new holds."""
    return "closed" if event["status"] == "cancelled" else "open"


class Catalog:
    """One per process. A read answered from the caches opens no database connection; one
    that is not opens an autocommit connection (no BEGIN/ROLLBACK round trips) for as long as
    it needs it."""

    def __init__(
        self,
        database: Database,
        inventory: InventoryClient,
        venues: VenueCache,
        reads: ReadCache,
        layouts: LayoutCache,
    ) -> None:
        self.database = database
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
        event = await self._cached_event(event_id)
        check_visible(user, event, event_id)
        assert event is not None
        return event

    async def _cached_event(self, event_id: str) -> dict[str, Any] | None:
        """The event in any status (recent reads from memory)."""
        found: dict[str, Any] | None = await self.reads.get_or_load(
            ("event", event_id), lambda: self._read(repository.event, event_id)
        )
        return found

    async def event_document(self, user: Principal | None, event_id: str) -> tuple[Document, bool]:
        """The event as served (`Event`, rendered once per cache entry), and whether it is the
        same for everyone (anything but a draft, which only its organizer and admins see)."""
        event = await self.event(user, event_id)
        document = self._rendered(("event-json", event_id), event, Event)
        return document, event["status"] != "draft"

    async def on_sale_document(self, **query: Any) -> Document:
        """A page of the listing as served (`EventPage`, rendered once per cache entry)."""
        page = await self.on_sale(**query)
        return self._rendered(("on_sale-json", *query.values()), page, EventPage)

    def _rendered(
        self, key: Hashable, source: Any, model: type[BaseModel], value: Any = None
    ) -> Document:
        """`value` (default: `source`) as `model` renders it, kept beside the cache entry it
        was made from, `source` (a reloaded entry is a new object: rendered again)."""
        cached: tuple[Any, Document] | None = self.reads.get(key)
        if cached is not None and cached[0] is source:
            return cached[1]
        body = model.model_validate(source if value is None else value).model_dump_json().encode()
        document = Document(body, etag_of(body))
        self.reads.put(key, (source, document))
        return document

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
        after = cursors.decode_event_position(cursor) if cursor else None

        async def load() -> dict[str, Any]:
            rows = await self._read(
                repository.on_sale,
                city=city,
                category=category.strip().lower() if category is not None else None,
                starts_after=starts_after,
                starts_before=starts_before,
                after=after,
                limit=limit + 1,  # one more than asked: is there a next page?
            )
            return cursors.page_of(
                rows, limit, lambda row: [row["starts_at"].isoformat(), row["event_id"]]
            )

        key = ("on_sale", city, category, starts_after, starts_before, limit, cursor)
        page: dict[str, Any] = await self.reads.get_or_load(key, load)
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
        rows = await self._read(
            repository.managed,
            organizer_id=organizer_id,
            statuses=statuses,
            title=title.strip() if title else None,
            after=after,
            limit=limit + 1,
        )
        return cursors.page_of(
            rows, limit, lambda row: [row["created_at"].isoformat(), row["event_id"]]
        )

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

        async def load() -> dict[str, Any]:
            found = await self._read(repository.waiting_room, event_id)
            return found or {"event_id": event_id, **WAITING_ROOM_DEFAULTS}

        room: dict[str, Any] = await self.reads.get_or_load(("waiting-room", event_id), load)
        return room, event["status"] != "draft"

    async def waiting_rooms_on(self) -> dict[str, Any]:
        return {"items": await self._read(repository.waiting_rooms_on)}

    async def internal_document(self, event_id: str) -> Document:
        """The event in any status, with what booking and notification need to price and
        describe it (`InternalEvent`, rendered once per cache entry)."""
        event = await self._known_event(event_id)
        venue = await self._venue(event)
        view = event | {
            "venue_name": venue["name"],
            "currency": currency_of(event),
            "min_price_cents": min_price_cents(event),
        }
        return self._rendered(("internal-json", event_id), event, InternalEvent, view)

    async def search_documents(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """Every published event as its event.published fact data, for a full reindex."""
        after = cursors.decode_id_position(cursor) if cursor else None
        rows = await self._read(
            repository.on_sale_with_venues, after_event_id=after, limit=limit + 1
        )
        return cursors.page_of(
            rows,
            limit,
            lambda row: [row["event_id"]],
            lambda row: event_fact(
                EventPublished, row, {"name": row["venue_name"], "country": row["country"]}
            ).model_dump(mode="json"),
        )

    async def inventory_events(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """Every event inventory must hold state for (it rebuilds lost state from these)."""
        after = cursors.decode_id_position(cursor) if cursor else None
        rows = await self._read(repository.published, after_event_id=after, limit=limit + 1)
        return cursors.page_of(
            rows,
            limit,
            lambda row: [row["event_id"]],
            lambda row: {"event_id": row["event_id"], "status": inventory_status(row)},
        )

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
        """The event as the database holds it now."""
        event = await self._read(repository.event, event_id)
        if event is None:
            raise not_found("Event", event_id)
        return event

    async def _known_event(self, event_id: str) -> dict[str, Any]:
        """The event in any status, recent reads from memory."""
        event = await self._cached_event(event_id)
        if event is None:
            raise not_found("Event", event_id)
        return event

    async def _venue(self, event: dict[str, Any]) -> dict[str, Any]:
        venue = await self._venue_row(event["venue_id"])
        assert venue is not None  # foreign key
        return venue

    async def _venue_row(self, venue_id: str) -> dict[str, Any] | None:
        # From memory without opening a connection; the database only on a miss.
        return self.venues.cached(venue_id) or await self._read(self.venues.get, venue_id)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.database.engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def _read(
        self,
        query: Callable[Concatenate[AsyncConnection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """One query (a repository function) on a connection of its own."""
        async with self._reading() as connection:
            return await query(connection, *args, **kwargs)
