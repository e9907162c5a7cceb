"""Opaque page cursors: the keyset position of the last item, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

from ticketing_events.rules import unprocessable


def encode(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise _invalid() from None


def _invalid() -> Exception:
    return unprocessable((["query", "cursor"], "not a cursor this API issued", "invalid_cursor"))


def decode_event_position(cursor: str) -> tuple[datetime, str]:
    """(time, id) of the last item of the previous page: (starts_at, event_id) in the public
    listing, (created_at, id) in the console's newest-first lists."""
    position = _decode(cursor)
    if not (
        isinstance(position, list)
        and len(position) == 2
        and all(isinstance(part, str) for part in position)
    ):
        raise _invalid()
    try:
        starts_at = datetime.fromisoformat(position[0])
    except ValueError:
        raise _invalid() from None
    if starts_at.tzinfo is None:
        raise _invalid()
    return starts_at, position[1]


def decode_id_position(cursor: str) -> str:
    position = _decode(cursor)
    if not (isinstance(position, list) and len(position) == 1 and isinstance(position[0], str)):
        raise _invalid()
    return str(position[0])
