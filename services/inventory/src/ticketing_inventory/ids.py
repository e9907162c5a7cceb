"""Identifiers: event and hold ids (shared with the gateway, in ticketing_common.ids), and the
section a seat id names."""

from __future__ import annotations

from ticketing_common.ids import EVENT_ID_PATTERN, event_of_hold, new_hold_id

__all__ = ["EVENT_ID_PATTERN", "event_of_hold", "new_hold_id", "section_of_seat"]


def section_of_seat(seat_id: str) -> str:
    """Seat ids are `{section_id}-{row}-{number}` and section ids never contain '-'."""
    return seat_id.split("-", 1)[0]
