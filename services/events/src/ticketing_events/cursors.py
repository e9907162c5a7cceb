"""Opaque page cursors (the shared codec, `ticketing_common.cursors`) for the events lists."""

from __future__ import annotations

from datetime import datetime

from ticketing_common.cursors import decode, decode_time_position, encode, invalid_cursor, page_of

__all__ = ["decode_event_position", "decode_id_position", "encode", "page_of"]


def decode_event_position(cursor: str) -> tuple[datetime, str]:
    """(time, id) of the last item of the previous page: (starts_at, event_id) in the public
    listing, (created_at, id) in the console's newest-first lists."""
    return decode_time_position(cursor)


def decode_id_position(cursor: str) -> str:
    position = decode(cursor)
    if not (isinstance(position, list) and len(position) == 1 and isinstance(position[0], str)):
        raise invalid_cursor()
    return str(position[0])
