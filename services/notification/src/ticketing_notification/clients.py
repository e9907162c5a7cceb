"""Who gets the email (auth) and what it is about (events): one client per peer, sending the
commands of `ticketing_common.contracts`. A peer that fails raises PeerUnavailable: the fact is
delivered again later."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ticketing_common import contracts
from ticketing_common.peers import PeerClient, PeerRefused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


@dataclass(frozen=True)
class EventDetails:
    title: str
    venue_name: str
    city: str
    starts_at: datetime


class RecipientUnknown(Exception):
    """Auth does not know the user: there is nobody to write to (retrying cannot help)."""


class AuthClient(PeerClient):
    async def recipient(self, user_id: str) -> Recipient:
        try:
            contact = await self.send(contracts.CONTACT, user_id=user_id)
        except PeerRefused as refused:  # 404
            raise RecipientUnknown(user_id) from refused
        return Recipient(email=contact.email, name=contact.name)


class EventsClient(PeerClient):
    async def event(self, event_id: str) -> EventDetails | None:
        """The event's details, or None if events does not know it (the email then goes out
        without them rather than not at all)."""
        try:
            event = await self.send(contracts.EVENT, event_id=event_id)
        except PeerRefused:  # 404
            log.warning(
                "event unknown to events; emailing without details", extra={"event_id": event_id}
            )
            return None
        return EventDetails(
            title=event.title,
            venue_name=event.venue_name,
            city=event.city,
            starts_at=event.starts_at,
        )
