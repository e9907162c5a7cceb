"""Public reads kept for a moment.

An on-sale is thousands of people reading the same few events and the same first page of the
listing every second. Serving those from memory for `ttl_s` spares the database a round trip
(two, with the pool's ping) per read. Every change made through this process clears the cache at
once, so a writer reads its own writes; other tasks see a change within `ttl_s`. Only public
reads use it: the internal views booking prices and checks with always read the database.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class ReadCache:
    """Bounded (least recently used out first) and time-limited; `ttl_s` 0 turns it off.
    Callers must not mutate what it returns."""

    def __init__(self, ttl_s: float, size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if time.monotonic() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.ttl_s <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl_s, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
