"""Login throttling in Redis: attempts per client IP, failed logins per email."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from ticketing_common.problems import Problem

# INCR with the window set on first use; returns the count and the seconds left in the window.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}
"""


def _too_many(retry_after: int, what: str) -> Problem:
    return Problem(
        429,
        f"Too many login attempts {what}; try again in {retry_after} seconds",
        slug="login-throttled",
        headers={"Retry-After": str(max(retry_after, 1))},
    )


class LoginThrottle:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        failures_per_email: int,
        attempts_per_ip: int,
        email_window_s: int,
        ip_window_s: int,
    ) -> None:
        self.redis = redis
        self.failures_per_email = failures_per_email
        self.attempts_per_ip = attempts_per_ip
        self.email_window_s = email_window_s
        self.ip_window_s = ip_window_s
        self._count = redis.register_script(_COUNT)

    @staticmethod
    def _email_key(email: str) -> str:
        return "auth:login-fail:" + hashlib.sha256(email.encode()).hexdigest()[:32]

    async def admit(self, email: str, client_ip: str) -> None:
        """Count this attempt against the IP; refuse if the IP or the email is over its limit."""
        count, ttl = await self._count(keys=[f"auth:login-ip:{client_ip}"], args=[self.ip_window_s])
        if count > self.attempts_per_ip:
            raise _too_many(int(ttl), "from this address")
        failures = await self.redis.get(self._email_key(email))
        if failures is not None and int(failures) >= self.failures_per_email:
            ttl = await self.redis.ttl(self._email_key(email))
            raise _too_many(int(ttl), "for this account")

    async def failed(self, email: str) -> None:
        await self._count(keys=[self._email_key(email)], args=[self.email_window_s])

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(self._email_key(email))
