"""Identifiers: event and hold ids (shared with the gateway, in ticketing_common.ids), and the
section a seat id names (shared with booking's pricing, in ticketing_common.seats)."""

from __future__ import annotations

from ticketing_common.ids import EVENT_ID_PATTERN, event_of_hold, new_hold_id
from ticketing_common.seats import section_of_seat

__all__ = ["EVENT_ID_PATTERN", "event_of_hold", "new_hold_id", "section_of_seat"]
