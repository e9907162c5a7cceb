"""The inventory service, as events uses it: initialise an event's seats, replace a stale layout,
stop sales of a cancelled event, and read availability for the seat map (the commands of
`ticketing_common.contracts`)."""

from __future__ import annotations

import logging
from typing import Any

from ticketing_common import contracts
from ticketing_common.contracts import AvailabilityBits
from ticketing_common.http_client import ServiceClient
from ticketing_common.peers import PeerClient, PeerRefused, PeerUnavailable
from ticketing_common.problems import ProblemType

log = logging.getLogger(__name__)


class LayoutMismatch(Exception):
    """Inventory already holds a different layout for this event."""


class InventoryClient(PeerClient):
    def __init__(
        self, services: ServiceClient, base_url: str, *, layout_timeout_s: float, timeout_s: float
    ) -> None:
        super().__init__(services, base_url, timeout_s=timeout_s)
        self.layout_timeout_s = layout_timeout_s

    async def initialise(self, event_id: str, layout: dict[str, Any]) -> None:
        """Create the event's seats. The same layout again is a no-op; a different one raises
        LayoutMismatch. `layout` is sent as events built it (up to 150,000 places)."""
        try:
            await self.send(
                contracts.PUT_LAYOUT, raw=layout, timeout_s=self.layout_timeout_s, event_id=event_id
            )
        except PeerRefused as refused:  # 409
            if refused.slug == ProblemType.LAYOUT_MISMATCH:
                raise LayoutMismatch(event_id) from refused
            raise PeerUnavailable(
                "inventory", f"it refused the layout ({refused.slug})"
            ) from refused

    async def replace_layout(self, event_id: str, layout: dict[str, Any]) -> None:
        """Rebuild the event's seat state from `layout` with nothing sold."""
        await self.send(
            contracts.REBUILD,
            raw={"layout": layout, "sold": []},
            timeout_s=self.layout_timeout_s,
            event_id=event_id,
        )

    async def close(self, event_id: str) -> None:
        """No new holds from now on (the event is cancelled); idempotent."""
        try:
            await self.send(contracts.CLOSE_SALES, event_id=event_id)
        except PeerRefused:  # 404: inventory has no seats for it, nothing left to stop selling
            return

    async def availability_bits(self, event_id: str) -> AvailabilityBits:
        """Per-section counts and every seat's state as two bitmaps (inventory's compact
        availability) of a published event. When inventory cannot answer (its state was lost
        and is being rebuilt, or it is down) this raises PeerUnavailable: a seat map without
        inventory would show sold seats as free."""
        try:
            return await self.send(contracts.AVAILABILITY_BITS, event_id=event_id)
        except PeerRefused as refused:
            # A published event inventory has no state for: lost (a cache loss) or not rebuilt
            # yet. Nothing says its seats are free.
            log.warning(
                "inventory has no state for a published event", extra={"event_id": event_id}
            )
            raise PeerUnavailable("inventory", "it has no state for this event yet") from refused
