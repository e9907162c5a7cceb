"""Where the truth about an event lives when Redis has lost it: events knows which events went on
sale and their layouts, booking knows what is sold (its durable seat claims) and which holds its
pending bookings were made from. Inventory rebuilds and reconciles from these two."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ticketing_common.http_client import ServiceClient, ServiceUnavailable
from ticketing_common.problems import Problem, ProblemType

from ticketing_inventory.schemas import LayoutIn, Sales

PAGE = 500


@dataclass(frozen=True, slots=True)
class EventLayout:
    status: str  # open | closed
    layout: LayoutIn


class Truth:
    def __init__(
        self, client: ServiceClient, events_url: str, booking_url: str, *, timeout_s: float
    ) -> None:
        self.client = client
        self.events_url = events_url.rstrip("/")
        self.booking_url = booking_url.rstrip("/")
        self.timeout_s = timeout_s

    async def events(self) -> dict[str, str]:
        """Every event that went on sale, with its status (open, or closed: cancelled)."""
        found: dict[str, str] = {}
        cursor: str | None = None
        while True:
            query = f"?limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
            body = await self._get("events", f"{self.events_url}/internal/inventory/events{query}")
            for item in body["items"]:
                found[str(item["event_id"])] = str(item["status"])
            cursor = body.get("next_cursor")
            if not cursor:
                return found

    async def layout(self, event_id: str) -> EventLayout | None:
        """The event's layout and status; None when events says it never went on sale."""
        url = f"{self.events_url}/internal/events/{event_id}/inventory-layout"
        body = await self._get("events", url, missing_ok=True)
        if body is None:
            return None
        return EventLayout(str(body["status"]), LayoutIn.model_validate(body["layout"]))

    async def sales(self, event_id: str) -> Sales:
        body = await self._get("booking", f"{self.booking_url}/internal/events/{event_id}/sold")
        return Sales.model_validate(body)

    async def _get(self, service: str, url: str, *, missing_ok: bool = False) -> Any:
        response = await self.client.call(service, "GET", url, timeout_s=self.timeout_s)
        if response.status == 404 and missing_ok:
            return None
        if response.status >= 500:
            raise ServiceUnavailable(service, f"answered {response.status}")
        if not response.ok:
            raise Problem(
                502,
                f"The {service} service refused inventory's question ({response.status})",
                slug=ProblemType.DEPENDENCY_UNAVAILABLE,
                service=service,
            )
        return response.body
