"""Venues and their seat maps: sections of rows of seats, or standing areas.

A seat id is `{section_id}-{row label}-{number}`; section ids and row labels never contain "-"
(the schema refuses it), so any service can read a seat's section as `seat_id.split("-")[0]`.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from ticketing_common.problems import ProblemType, conflict, forbidden, not_found
from ticketing_common.security import Principal

from ticketing_events import cursors, repository
from ticketing_events.schemas import VenueIn, section_capacity


def seat_ids(section: dict[str, Any]) -> Iterator[tuple[str, str, int]]:
    """(seat_id, row label, number) of every seat of a seated section, in row order."""
    for row in section["rows"]:
        prefix = f"{section['section_id']}-{row['label']}-"
        for number in range(1, row["seats"] + 1):
            yield f"{prefix}{number}", row["label"], number


def capacity_of(section: dict[str, Any]) -> int:
    if section["kind"] == "standing":
        return int(section["capacity"])
    return sum(int(row["seats"]) for row in section["rows"])


def inventory_layout(
    sections: list[dict[str, Any]], section_tiers: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """What inventory needs to sell an event: every seat and every standing area, with tiers."""
    seats: list[dict[str, Any]] = []
    standing: list[dict[str, Any]] = []
    for section in sections:
        section_id, tier = section["section_id"], section_tiers[section["section_id"]]
        if section["kind"] == "seated":
            seats.extend(
                {"seat_id": seat_id, "section_id": section_id, "price_tier": tier}
                for seat_id, _, _ in seat_ids(section)
            )
        else:
            standing.append(
                {"section_id": section_id, "capacity": section["capacity"], "price_tier": tier}
            )
    return {"seats": seats, "standing": standing}


def venue_view(row: dict[str, Any]) -> dict[str, Any]:
    """A stored venue as API.md's `Venue`: each section reports its capacity."""
    return row | {
        "sections": [section | {"capacity": capacity_of(section)} for section in row["sections"]]
    }


def _stored(body: VenueIn) -> dict[str, Any]:
    return {
        "name": body.name,
        "city": body.city,
        "country": body.country,
        "address": body.address,
        "timezone": body.timezone,
        "sections": [section.model_dump() for section in body.sections],
        "capacity": sum(section_capacity(section) for section in body.sections),
    }


class Venues:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(self, user: Principal, body: VenueIn) -> dict[str, Any]:
        row = await repository.insert_venue(
            self.db, venue_id=str(uuid.uuid4()), organizer_id=user.user_id, **_stored(body)
        )
        await self.db.commit()
        return venue_view(row)

    async def replace(self, user: Principal, venue_id: str, body: VenueIn) -> dict[str, Any]:
        """Edit a venue that no event uses yet (row-locked against an event being put on it)."""
        try:
            row = await repository.venue(self.db, venue_id, for_update=True)
            if row is None:
                raise not_found("Venue", venue_id)
            if not (user.is_admin or user.user_id == row["organizer_id"]):
                raise forbidden("Only the venue's organizer or an admin may change it")
            if row["in_use"]:
                raise conflict(
                    "This venue already has events, so its sections can no longer change; "
                    "create a new venue instead",
                    slug=ProblemType.VENUE_IN_USE,
                )
            updated = await repository.update_venue(self.db, venue_id, **_stored(body))
            await self.db.commit()
        except Exception:
            await self.db.rollback()
            raise
        return venue_view(updated)

    async def page(
        self, user: Principal, organizer_id: str | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        """The caller's venues newest first; an admin sees every venue (or one organizer's)."""
        if not user.is_admin:
            if organizer_id not in (None, user.user_id):
                raise forbidden("Organizers list only their own venues")
            organizer_id = user.user_id
        after = cursors.decode_event_position(cursor) if cursor else None
        rows = await repository.venues_of(
            self.db, organizer_id=organizer_id, after=after, limit=limit + 1
        )
        return cursors.page_of(
            rows, limit, lambda row: [row["created_at"].isoformat(), row["venue_id"]], venue_view
        )


class VenueCache:
    """A venue with events never changes again, so once read it is served from memory (bounded,
    least recently used out first). A venue still being edited (`in_use` false) is always read
    from the database: another instance may change it. Callers must not mutate what it
    returns."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._venues: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def cached(self, venue_id: str) -> dict[str, Any] | None:
        venue = self._venues.get(venue_id)
        if venue is not None:
            self._venues.move_to_end(venue_id)
        return venue

    async def get(self, db: repository.Reader, venue_id: str) -> dict[str, Any] | None:
        venue = self.cached(venue_id)
        if venue is not None:
            return venue
        venue = await repository.venue(db, venue_id)
        if venue is not None and venue["in_use"]:
            self._venues[venue_id] = venue
            if len(self._venues) > self.size:
                self._venues.popitem(last=False)
        return venue
