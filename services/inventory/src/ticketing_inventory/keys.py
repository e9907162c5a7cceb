"""Redis key names. Every key of one event carries the hash tag `{event_id}`, so they share a
Redis Cluster slot and one Lua script may touch them all."""

from __future__ import annotations

from functools import lru_cache

# Order matters: the Lua prelude names KEYS[1..10] in this order.
_EVENT_KEYS = (
    "meta",
    "seat-index",
    "seat-ids",
    "sold",
    "held",
    "claims",
    "holders",
    "sold-count",
    "user-holds",
    "sales",
)

# The events the sweeper visits (a plain set, outside any event's slot; never used by a script).
EVENTS_KEY = "inv:events"


@lru_cache(maxsize=4096)
def event_keys(event_id: str) -> tuple[str, ...]:
    tag = f"inv:{{{event_id}}}"
    return tuple(f"{tag}:{name}" for name in _EVENT_KEYS)


def hold_keys(event_id: str, hold_id: str) -> list[str]:
    """The event's keys plus the hold's record (KEYS[11] in the scripts about one hold)."""
    return [*event_keys(event_id), f"inv:{{{event_id}}}:hold:{hold_id}"]
