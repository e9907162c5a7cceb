"""Rate limits: one token bucket per (route group, client) in Redis, shared by every gateway
replica, without a Redis round trip per request.

The shared bucket lives in Redis and only the Lua script below touches it. A replica does not ask
for one token per request: it takes a *lease* of L tokens at once (L = burst x fraction, clamped to
[1, max]) and admits the next requests from the lease locally. Requests that find no lease wait for
one batched script call that serves every key needing tokens at that moment. A refusal is cached
locally until Redis said the next token will exist, so a flood of refused requests costs nothing.

Guarantees, for one key, across any number of replicas:
- Over-admission: none while Redis answers. Every admitted request spent a token that the script
  took atomically from the shared bucket, so admissions in any interval T stay within
  burst + rate x T, exactly as with one Redis call per request.
- The price is bounded under-admission: leased tokens a replica has not spent yet are invisible
  to the others, and dropped after `lease_ttl_s`. A replica holds at most L + L/4 of them per key
  (leases of L >= 4 are renewed in the background when L/4 are left, so busy keys do not wait
  for Redis); with R replicas a client may be refused while at most R x 1.25 L tokens sit unused
  in leases elsewhere.
- Redis down or slower than `redis_timeout_s`: requests without a live lease are admitted
  unchecked (fail open; logged on the transition and per request in the access log) and Redis is
  retried after `retry_s`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError
from ticketing_common.redis import RedisClient
from ticketing_common.resources import Resource

from ticketing_api_gateway.settings import Limit

log = logging.getLogger(__name__)

KEY_PREFIX = "gateway:ratelimit:"
MAX_KEYS_PER_CALL = 500
PREFETCH_MIN_LEASE = 4  # one script call blocks Redis; keep each one short

# Token bucket per key, refilled lazily by Redis's own clock (the same for every replica).
# KEYS[i] is a bucket; ARGV[3i-2..3i] are its rate (tokens/s), burst and the tokens wanted.
# Takes min(wanted, whole tokens available) and returns, per key: tokens granted, whole tokens
# left, ms until one token is available, ms until the bucket is full.
BUCKET_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local result = {}
for i, key in ipairs(KEYS) do
  local per_ms = tonumber(ARGV[i * 3 - 2]) / 1000
  local burst = tonumber(ARGV[i * 3 - 1])
  local wanted = tonumber(ARGV[i * 3])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil or ts == nil then
    tokens = burst
  else
    tokens = math.min(burst, tokens + math.max(0, now - ts) * per_ms)
  end
  local granted = math.max(0, math.min(wanted, math.floor(tokens)))
  tokens = tokens - granted
  local full_ms = math.ceil((burst - tokens) / per_ms)
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', key, full_ms + 1000)
  local wait_ms = 0
  if tokens < 1 then wait_ms = math.ceil((1 - tokens) / per_ms) end
  result[#result + 1] = granted
  result[#result + 1] = math.floor(tokens)
  result[#result + 1] = wait_ms
  result[#result + 1] = full_ms
end
return result
"""


@dataclass(slots=True)
class Decision:
    admitted: bool
    limit: int  # the bucket's capacity (burst)
    remaining: int  # whole tokens this client can still spend now (approximate across replicas)
    reset_s: int  # seconds until the bucket is full again
    retry_after_s: int  # when refused: seconds until a token exists
    checked: bool = True  # False: admitted without Redis (fail open)


@dataclass(slots=True)
class _Lease:
    tokens: int  # taken from the shared bucket, not yet spent
    low_water: int  # when this many are left, the next lease is asked for in the background
    expires_at: float  # monotonic; unspent tokens are dropped after this
    shared_left: int  # whole tokens the shared bucket held when the lease was taken
    full_at: float  # monotonic; when the shared bucket is full again, as of the lease
    denied_until: float  # monotonic; no token exists anywhere before this (0: not refused)


@dataclass(slots=True)
class _Pending:
    limit: Limit
    future: asyncio.Future[bool]  # True: Redis answered; False: it did not (fail open)
    waiters: int = 0


class RateLimiter(Resource):
    """A Resource whose `check` never fails: a broken limiter must not make the gateway unready."""

    name = "rate_limiter"

    def __init__(
        self,
        redis: RedisClient,
        *,
        lease_fraction: float,
        max_lease: int,
        lease_ttl_s: float,
        redis_timeout_s: float,
        retry_s: float,
    ) -> None:
        self.redis = redis
        self.lease_fraction = lease_fraction
        self.max_lease = max_lease
        self.lease_ttl_s = lease_ttl_s
        self.redis_timeout_s = redis_timeout_s
        self.retry_s = retry_s
        self._leases: dict[str, _Lease] = {}
        self._pending: dict[str, _Pending] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._failing_open_until = 0.0
        self._failing_open = False
        self._script: AsyncScript | None = None

    async def start(self) -> None:
        await self.redis.start()
        self._script = self.redis.client.register_script(BUCKET_LUA)

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        await self.redis.stop()

    @property
    def failing_open(self) -> bool:
        return self._failing_open

    async def redis_reachable(self) -> bool:
        try:
            async with asyncio.timeout(self.redis_timeout_s):
                await self.redis.client.ping()
        except (RedisError, OSError, TimeoutError):
            return False
        return True

    def lease_size(self, limit: Limit) -> int:
        return max(1, min(self.max_lease, int(limit.burst * self.lease_fraction)))

    async def admit(self, key: str, limit: Limit) -> Decision:
        """Spend one token of `key`'s bucket, or say when the next one exists."""
        decision = self._admit_locally(key, limit)
        if decision is not None:
            return decision
        for _ in range(3):
            if not await self._refill(key, limit):
                return self._unchecked(limit)
            decision = self._admit_locally(key, limit)
            if decision is not None:
                return decision
        # Other requests for this key kept spending the refills first; the bucket is contended,
        # so refuse with the shortest honest wait.
        return Decision(False, limit.burst, 0, 1, max(1, math.ceil(1 / limit.rate)))

    def _admit_locally(self, key: str, limit: Limit) -> Decision | None:
        now = time.monotonic()
        lease = self._leases.get(key)
        if lease is not None:
            if lease.tokens > 0 and now < lease.expires_at:
                lease.tokens -= 1
                if lease.tokens == lease.low_water and key not in self._pending:
                    self._request_lease(key, limit)  # next lease arrives before this one ends
                reset = lease.full_at - now
                return Decision(
                    True,
                    limit.burst,
                    lease.tokens + lease.shared_left,
                    math.ceil(reset) if reset > 0 else 0,
                    0,
                )
            if now < lease.denied_until:
                wait = math.ceil(lease.denied_until - now)
                reset = lease.full_at - now
                return Decision(False, limit.burst, 0, math.ceil(reset) if reset > 0 else 0, wait)
        if now < self._failing_open_until:
            return self._unchecked(limit)
        return None

    @staticmethod
    def _unchecked(limit: Limit) -> Decision:
        return Decision(True, limit.burst, limit.burst, 0, 0, checked=False)

    def _request_lease(self, key: str, limit: Limit) -> _Pending:
        """Put `key` in the next batched script call."""
        pending = self._pending.get(key)
        if pending is None:
            pending = _Pending(limit, asyncio.get_running_loop().create_future())
            self._pending[key] = pending
            if self._flusher is None:
                self._flusher = asyncio.create_task(self._flush())
        return pending

    async def _refill(self, key: str, limit: Limit) -> bool:
        """Wait for the next batched script call to lease tokens for `key`; False if Redis did
        not answer."""
        pending = self._request_lease(key, limit)
        pending.waiters += 1
        # Shielded: a client that goes away must not cancel the call the other waiters share.
        return await asyncio.shield(pending.future)

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, {}
                items = list(batch.items())
                try:
                    for start in range(0, len(items), MAX_KEYS_PER_CALL):
                        await self._lease(items[start : start + MAX_KEYS_PER_CALL])
                except Exception:
                    log.exception("rate limiter: leasing failed; admitting unchecked")
                finally:
                    # Whatever happened, nobody may wait forever: unanswered means fail open.
                    for _, pending in items:
                        if not pending.future.done():
                            pending.future.set_result(False)
        finally:
            self._flusher = None

    async def _lease(self, items: list[tuple[str, _Pending]]) -> None:
        keys: list[str] = []
        args: list[float | int] = []
        for key, pending in items:
            keys.append(KEY_PREFIX + key)
            wanted = min(pending.limit.burst, max(self.lease_size(pending.limit), pending.waiters))
            args += [pending.limit.rate, pending.limit.burst, wanted]
        assert self._script is not None
        try:
            async with asyncio.timeout(self.redis_timeout_s):
                reply = await self._script(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            self._redis_failed(exc)
            for _, pending in items:
                pending.future.set_result(False)
            return
        if self._failing_open:
            self._failing_open = False
            log.warning("rate limiter: Redis answers again; limits are enforced")
        now = time.monotonic()
        for index, (key, pending) in enumerate(items):
            granted, left, wait_ms, full_ms = (int(v) for v in reply[index * 4 : index * 4 + 4])
            previous = self._leases.get(key)
            if previous is not None and now < previous.expires_at:
                granted += previous.tokens  # tokens still unspent from the previous lease
            size = self.lease_size(pending.limit)
            self._leases[key] = _Lease(
                tokens=granted,
                # Small leases are not refreshed ahead: that would strand more tokens than the
                # Redis calls it saves are worth.
                low_water=size // 4 if size >= PREFETCH_MIN_LEASE else -1,
                expires_at=now + self.lease_ttl_s,
                shared_left=left,
                full_at=now + full_ms / 1000,
                denied_until=now + wait_ms / 1000 if wait_ms else 0.0,
            )
            pending.future.set_result(True)

    def _redis_failed(self, exc: BaseException) -> None:
        self._failing_open_until = time.monotonic() + self.retry_s
        if not self._failing_open:
            self._failing_open = True
            log.error(
                "rate limiter: Redis unreachable; admitting requests without limits",
                extra={"error": repr(exc), "retry_s": self.retry_s},
            )

    def prune(self) -> int:
        """Forget leases that can no longer admit or refuse anything; returns how many."""
        now = time.monotonic()
        stale = [
            key
            for key, lease in self._leases.items()
            if now >= lease.expires_at and now >= lease.denied_until
        ]
        for key in stale:
            del self._leases[key]
        return len(stale)
