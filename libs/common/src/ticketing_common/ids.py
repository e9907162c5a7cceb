"""Identifiers more than one service reads: what an event id may look like, and hold ids that
name their event (inventory makes them; the gateway reads a hold's event from its id to know
whether the event's waiting room guards booking it)."""

from __future__ import annotations

import re
import secrets

# Event ids are opaque, but they end up inside Redis hash tags ({event_id}), so braces and
# whitespace are out.
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
_HOLD_ID = re.compile(r"^([A-Za-z0-9_-]{22})\.([A-Za-z0-9][A-Za-z0-9_.:-]{0,99})$")


def new_hold_id(event_id: str) -> str:
    """`<random>.<event_id>`: unguessable, and it tells which event's keys hold the record (the
    hold paths carry no event id)."""
    return f"{secrets.token_urlsafe(16)}.{event_id}"


def event_of_hold(hold_id: str) -> str | None:
    """The event a hold id belongs to, or None when it is not a hold id at all."""
    match = _HOLD_ID.match(hold_id)
    return match.group(2) if match else None
