"""Redis key names. Every key of one event carries the hash tag `{event_id}`, so they share a
Redis Cluster slot and one Lua script may touch them all."""

from __future__ import annotations

from functools import lru_cache

# Order matters: the Lua prelude names KEYS[1..9] in this order.
_EVENT_KEYS = (
    "meta",
    "seat-index",
    "seat-ids",
    "sold",
    "held",
    "claims",
    "holders",
    "sold-count",
    "sales",
)

# Set once inventory holds the state of every event it should (see healer.py). A total loss of
# Redis removes it with everything else: its absence is how a loss is noticed at once.
EPOCH_KEY = "inv:epoch"
# One reconciler pass at a time across replicas.
RECONCILER_LOCK_KEY = "inv:reconciler"

# The events the sweeper visits (a plain set, outside any event's slot; never used by a script).
EVENTS_KEY = "inv:events"


@lru_cache(maxsize=4096)
def event_keys(event_id: str) -> tuple[bytes, ...]:
    """Encoded once: redis-py passes bytes through instead of encoding every key of every call."""
    tag = f"inv:{{{event_id}}}"
    return tuple(f"{tag}:{name}".encode() for name in _EVENT_KEYS)


def hold_key(event_id: str, hold_id: str) -> bytes:
    return f"inv:{{{event_id}}}:hold:{hold_id}".encode()


def user_holds_key(event_id: str, user_id: str) -> bytes:
    return f"inv:{{{event_id}}}:user:{user_id}".encode()


def hold_keys(event_id: str, hold_id: str, user_id: str) -> list[bytes]:
    """The event's keys plus, for the scripts about one hold, the hold's record and its owner's
    holds of the event (KEYS[10] and KEYS[11])."""
    return [*event_keys(event_id), hold_key(event_id, hold_id), user_holds_key(event_id, user_id)]
