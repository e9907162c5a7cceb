"""The inventory service, as events uses it: initialise an event's seats, replace a stale layout,
stop sales of a cancelled event, and read availability for the seat map."""

from __future__ import annotations

import logging
from typing import Any

from ticketing_common.http_client import ServiceClient, ServiceResponse, ServiceUnavailable
from ticketing_common.problems import Problem, ProblemType

log = logging.getLogger(__name__)

SERVICE = "inventory"


class LayoutMismatch(Exception):
    """Inventory already holds a different layout for this event."""


class Inventory:
    def __init__(
        self, client: ServiceClient, base_url: str, *, layout_timeout_s: float, timeout_s: float
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.layout_timeout_s = layout_timeout_s
        self.timeout_s = timeout_s

    async def initialise(self, event_id: str, layout: dict[str, Any]) -> None:
        """Create the event's seats. The same layout again is a no-op; a different one raises
        LayoutMismatch."""
        response = await self._call(
            "PUT", f"/internal/events/{event_id}/layout", layout, self.layout_timeout_s
        )
        if response.status == 409 and _slug(response.body) == "layout-mismatch":
            raise LayoutMismatch(event_id)
        self._expect_ok(response, "initialise the event's seats")

    async def replace_layout(self, event_id: str, layout: dict[str, Any]) -> None:
        """Rebuild the event's seat state from `layout` with nothing sold."""
        response = await self._call(
            "POST",
            f"/internal/events/{event_id}/rebuild",
            {"layout": layout, "sold": []},
            self.layout_timeout_s,
        )
        self._expect_ok(response, "replace the event's seats")

    async def close(self, event_id: str) -> None:
        """No new holds from now on (the event is cancelled); idempotent."""
        response = await self._call("POST", f"/internal/events/{event_id}/close")
        if response.status == 404:
            return  # inventory has no seats for it: there is nothing left to stop selling
        self._expect_ok(response, "close the event's sales")

    async def availability_bits(self, event_id: str) -> dict[str, Any]:
        """Per-section counts and every seat's state as two bitmaps (inventory's compact
        availability) of a published event. When inventory cannot answer (its state was lost
        and is being rebuilt, or it is down) this raises a 503: a seat map without inventory
        would show sold seats as free."""
        response = await self._call("GET", f"/api/v1/inventory/events/{event_id}/availability/bits")
        if response.status == 404 and _slug(response.body) == "unknown-event":
            # A published event inventory has no state for: lost (a cache loss) or not rebuilt
            # yet. Nothing says its seats are free.
            log.warning(
                "inventory has no state for a published event", extra={"event_id": event_id}
            )
            raise ServiceUnavailable(SERVICE, "it has no state for this event yet")
        self._expect_ok(response, "read availability")
        body: dict[str, Any] = response.body
        return body

    async def _call(
        self, method: str, path: str, body: Any = None, timeout_s: float | None = None
    ) -> ServiceResponse:
        return await self.client.call(
            SERVICE,
            method,
            self.base_url + path,
            json=body,
            timeout_s=timeout_s or self.timeout_s,
        )

    @staticmethod
    def _expect_ok(response: ServiceResponse, action: str) -> None:
        if response.ok:
            return
        log.warning(
            "inventory refused a call",
            extra={"action": action, "status": response.status, "body": response.body},
        )
        if response.status >= 500:
            raise ServiceUnavailable(SERVICE, f"answered {response.status}")
        # A 4xx here is a bug or a misconfiguration (credential, contract), not the caller's.
        raise Problem(
            502,
            f"The inventory service refused to {action} ({response.status})",
            slug=ProblemType.DEPENDENCY_UNAVAILABLE,
            service=SERVICE,
        )


def _slug(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("type"), str):
        return str(body["type"]).rsplit("/", 1)[-1]
    return None
