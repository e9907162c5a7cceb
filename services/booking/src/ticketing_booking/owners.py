"""Who organizes an event, and whether a caller acts for them: the console's and the door's
check before they show anything of an event."""

from __future__ import annotations

from ticketing_common.lru import Lru
from ticketing_common.problems import forbidden, not_found
from ticketing_common.security import Principal

from ticketing_booking.clients import EventsClient


class EventOwners:
    """Who organizes an event, asked of the events service once per event and remembered (an
    event never changes organizer); bounded, least recently used out first."""

    def __init__(self, events: EventsClient, size: int = 4096) -> None:
        self.events = events
        self._owners: Lru[str, str] = Lru(size)

    async def organizer_of(self, event_id: str) -> str:
        """The event's organizer; 404 when there is no such event."""
        owner = self._owners.get(event_id)
        if owner is None:
            found = await self.events.organizer_of(event_id)
            if found is None:
                raise not_found("Event", event_id)
            owner = self._owners.put(event_id, found)
        return owner

    async def check(self, user: Principal, event_id: str, what: str) -> str:
        """The event's organizer, if `user` acts for them (else 403)."""
        organizer = await self.organizer_of(event_id)
        if not user.acts_for(organizer):
            raise forbidden(f"Only the event's organizer or an admin may {what}")
        return organizer
