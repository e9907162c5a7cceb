"""The services inventory asks when Redis has lost its state (the commands of
`ticketing_common.contracts`): events knows which events went on sale and their layouts,
booking what is sold and which holds its pending bookings were made from."""

from __future__ import annotations

from ticketing_common import contracts
from ticketing_common.contracts import InventoryLayout, Sales
from ticketing_common.peers import PeerClient, PeerRefused

PAGE = 500


class EventsClient(PeerClient):
    async def events(self) -> dict[str, str]:
        """Every event that went on sale, with its status (open, or closed: cancelled)."""
        found: dict[str, str] = {}
        cursor: str | None = None
        while True:
            query: dict[str, str | int] = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
            page = await self.send(contracts.INVENTORY_EVENTS, query=query)
            found.update({item.event_id: item.status for item in page.items})
            cursor = page.next_cursor
            if not cursor:
                return found

    async def layout(self, event_id: str) -> InventoryLayout | None:
        """The event's layout and status; None when events says it never went on sale."""
        try:
            return await self.send(contracts.INVENTORY_LAYOUT, event_id=event_id)
        except PeerRefused:  # 404
            return None


class BookingClient(PeerClient):
    async def sales(self, event_id: str) -> Sales:
        return await self.send(contracts.SALES, event_id=event_id)
