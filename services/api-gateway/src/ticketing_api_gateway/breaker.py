"""A circuit breaker per upstream, so a dead service costs one fast 503 instead of a connection
attempt (and a worker slot) per request.

closed --N consecutive failures--> open --cool-down--> half-open (one probe at a time)
half-open --probe succeeds--> closed; --probe fails--> open again.

Failures are transport failures (refused, reset, timed out). Any HTTP answer, even a 5xx, is a
success: the service is alive and answering quickly, which is all the breaker protects.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probing or self._clock() - self._opened_at >= self.cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """May a request go to the upstream now? In half-open, only the one probe may."""
        if self._opened_at is None:
            return True
        if self._probing or self._clock() - self._opened_at < self.cooldown_s:
            return False
        self._probing = True
        return True

    def retry_after_s(self) -> int:
        """Whole seconds until the breaker lets a probe through (for Retry-After)."""
        if self._opened_at is None:
            return 0
        left = self.cooldown_s - (self._clock() - self._opened_at)
        return max(1, math.ceil(left))

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._probing = False

    def release_probe(self) -> None:
        """The probe ended without telling us anything about the upstream (the client went away,
        or sent too much): let the next request probe instead."""
        self._probing = False
