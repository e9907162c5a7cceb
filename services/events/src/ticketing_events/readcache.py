"""Reads kept for a moment.

An on-sale is thousands of people reading the same few events and the same first page of the
listing every second, and booking quoting the same events. Serving those from memory for `ttl_s`
spares the database a round trip (two, with the pool's ping) per read. Every change made through
this process clears the cache at once, so a writer reads its own writes; other tasks see a
change within `ttl_s`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class ReadCache:
    """Bounded (least recently used out first) and time-limited; `ttl_s` 0 turns it off.
    Callers must not mutate what it returns."""

    def __init__(self, ttl_s: float, size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}
        self._generation = 0  # bumped by clear(): a load begun before it is not kept

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

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value, or `load()`'s (kept unless None). Concurrent misses of one key
        share one load: when an entry expires under load, one request reads the database, not
        every request in flight (each of which would also check a pool connection out)."""
        value = self.get(key)
        if value is not None:
            return value
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._load(key, load, self._generation))
            self._loading[key] = pending
        # Shielded: a waiter that goes away (its client hung up) does not cancel the others'.
        return await asyncio.shield(pending)

    async def _load(
        self, key: Hashable, load: Callable[[], Awaitable[Any]], generation: int
    ) -> Any:
        try:
            value = await load()
        finally:
            if self._generation == generation:
                self._loading.pop(key, None)
        if value is not None and self._generation == generation:
            self.put(key, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
        self._loading.clear()  # reads from now on load afresh, after the change
        self._generation += 1
