"""Who gets the email (auth) and what it is about (events): the peers' internal APIs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from ticketing_common.http_client import ServiceClient

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


class PeerFailed(Exception):
    """A peer answered with an error; worth retrying later."""


class Directory:
    def __init__(self, client: ServiceClient, auth_url: str, events_url: str) -> None:
        self.client = client
        self.auth_url = auth_url.rstrip("/")
        self.events_url = events_url.rstrip("/")

    async def recipient(self, user_id: str) -> Recipient:
        url = f"{self.auth_url}/internal/users/{quote(user_id, safe='')}"
        response = await self.client.call("auth", "GET", url)
        if response.status == 404:
            raise RecipientUnknown(user_id)
        if not response.ok or not isinstance(response.body, dict):
            raise PeerFailed(f"auth answered {response.status} for user {user_id}")
        return Recipient(email=response.body["email"], name=response.body.get("name") or "")

    async def event(self, event_id: str) -> EventDetails | None:
        """The event's details, or None if events does not know it (the email then goes out
        without them rather than not at all)."""
        url = f"{self.events_url}/internal/events/{quote(event_id, safe='')}"
        response = await self.client.call("events", "GET", url)
        if response.status == 404:
            log.warning(
                "event unknown to events; emailing without details", extra={"event_id": event_id}
            )
            return None
        if not response.ok or not isinstance(response.body, dict):
            raise PeerFailed(f"events answered {response.status} for event {event_id}")
        body = response.body
        return EventDetails(
            title=body["title"],
            venue_name=body.get("venue_name") or "",
            city=body.get("city") or "",
            starts_at=datetime.fromisoformat(body["starts_at"]),
        )
