"""Login throttling in Redis, on what attacks look like rather than on how busy an address is:

- **failed logins per account** (brute force on one account): after `failures_per_email` in
  `email_window_s`, that account's logins are refused until the window ends, even with the
  right password;
- **failed logins per address** (credential stuffing: many accounts tried from one place): after
  `failures_per_ip` in `ip_window_s`, logins from that address are refused until the window ends;
- **every attempt per address**: a ceiling only, `attempts_per_ip` in `ip_window_s`, high enough
  for a carrier NAT, a campus or an office full of people signing in as an on-sale opens (a
  thousand customers in a minute).

A successful login never counts against the address, and clears its account's failures.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from ticketing_common.problems import Problem, ProblemType

# KEYS: attempts per address, failures per address, failures per account
# ARGV: address window s, attempts ceiling, address failure limit, account failure limit
# Counts this attempt against the address; returns {'ok'} or {what refused it, seconds left}.
_ADMIT = """
local attempts = redis.call('INCR', KEYS[1])
if attempts == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if attempts > tonumber(ARGV[2]) then return {'address', redis.call('TTL', KEYS[1])} end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then
  return {'address', redis.call('TTL', KEYS[2])}
end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[4]) then
  return {'account', redis.call('TTL', KEYS[3])}
end
return {'ok', 0}
"""
# KEYS: failures per address, failures per account; ARGV: their windows (s)
_FAILED = """
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i]) end
end
return 1
"""
_WHAT = {b"address": "from this address", b"account": "for this account"}


def _too_many(retry_after: int, what: str) -> Problem:
    return Problem(
        429,
        f"Too many login attempts {what}; try again in {max(retry_after, 1)} seconds",
        slug=ProblemType.LOGIN_THROTTLED,
        headers={"Retry-After": str(max(retry_after, 1))},
    )


class LoginThrottle:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        failures_per_email: int,
        failures_per_ip: int,
        attempts_per_ip: int,
        email_window_s: int,
        ip_window_s: int,
    ) -> None:
        self.redis = redis
        self.failures_per_email = failures_per_email
        self.failures_per_ip = failures_per_ip
        self.attempts_per_ip = attempts_per_ip
        self.email_window_s = email_window_s
        self.ip_window_s = ip_window_s
        self._admit = redis.register_script(_ADMIT)
        self._failed = redis.register_script(_FAILED)

    @staticmethod
    def _email_key(email: str) -> str:
        return "auth:login-fail:" + hashlib.sha256(email.encode()).hexdigest()[:32]

    @staticmethod
    def _ip_keys(client_ip: str) -> tuple[str, str]:
        return f"auth:login-ip:{client_ip}", f"auth:login-ip-fail:{client_ip}"

    async def admit(self, email: str, client_ip: str) -> None:
        """Count this attempt against the address; refuse it (429) if the address or the account
        is throttled."""
        attempts, failures = self._ip_keys(client_ip)
        outcome, ttl = await self._admit(
            keys=[attempts, failures, self._email_key(email)],
            args=[
                self.ip_window_s,
                self.attempts_per_ip,
                self.failures_per_ip,
                self.failures_per_email,
            ],
        )
        if outcome != b"ok":
            raise _too_many(int(ttl), _WHAT[outcome])

    async def failed(self, email: str, client_ip: str) -> None:
        _, failures = self._ip_keys(client_ip)
        await self._failed(
            keys=[failures, self._email_key(email)], args=[self.ip_window_s, self.email_window_s]
        )

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(self._email_key(email))
