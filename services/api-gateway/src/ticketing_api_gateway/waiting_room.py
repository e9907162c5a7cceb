"""The virtual waiting room: a queue per event in Redis, admission at a rate into a bounded number
of shopping slots, and the state a waiting person polls.

Per event (keys share the hash tag `{<event_id>}`):
- `q`   ZSET of the people waiting, by place. Arrivals before the opening get a place drawn at
        random in [0, 2**48) (AdmissionKeys.draw: the same however often they come back, so
        refreshing buys nothing, and hidden until the opening); later arrivals get the time they
        came, in microseconds (about 1.8e15, after every draw): first come, first served.
- `act` ZSET of the people shopping now, scored by the end of their shopping time.
- `adm` HASH account -> `jti|until_us|admitted_us` of the admissions of this room state (a
        finished one keeps its record: state `expired`), or `left`.
- `log` ZSET of the admissions of the last 60 s (the per-minute cap).
- `m`   HASH: `epoch` (names this room state), the admission bucket (`tokens`, `ts`), `last`
        (the latest arrival's place), `n` (admissions so far), `late` (see Failure).

Admission (`advance`, every WAITING_ROOM_TICK_S on every replica; the script makes any number of
concurrent calls safe): at most `admission_per_minute` in any 60 s (the log), smoothed by a
bucket of one second's worth, never more than the free slots (`max_shoppers` minus those still
shopping), lowest place first. A shopper stops counting when their time runs out, they book,
release their hold, or leave.

Failure: the room's state is in Redis and nowhere else. A restarted gateway finds it there. If
Redis loses it, the next call makes a new state (a new `epoch`) that knows it came late (`late`:
created after the opening) and starts its bucket empty, so it admits at the configured rate from
then on, never everyone at once. Admission tokens issued before stay valid (their signature
vouches for them) and, shown at a hold or booking, count against the slots from then on. Places
are not lost silently: every waiting person holds a receipt of their place, MACed by the
gateway, and a poll or join that shows one from an earlier state puts them back where they were;
without it they are told the room lost their place and join again.

Times are microseconds from `clock` (the gateway's; tests inject one).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError
from ticketing_common.redis import RedisClient

from ticketing_api_gateway.admission import Admission, AdmissionKeys

log = logging.getLogger(__name__)

MAX_ADMISSIONS_PER_CALL = 1000
MAX_ACCOUNTS_PER_POLL_CALL = 500
POLL_MIN_S = 2
POLL_MAX_S = 30
# Poll sooner than this only when the answer may change sooner (the opening, the end of a
# shopping time): a person polls about 4 times over their estimated wait.
POLLS_PER_WAIT = 4

_COMMON = """
local q, act, adm, log_, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local opens = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local burst = math.max(1, math.ceil(rate / 60))
local TTL_MS = 604800000
local function us(x) return string.format('%.0f', x) end
local function epoch_of()
  local epoch = redis.call('HGET', m, 'epoch')
  if epoch then return epoch end
  epoch = ARGV[6]
  if now < opens then
    redis.call('HSET', m, 'epoch', epoch, 'tokens', burst, 'ts', ARGV[2], 'late', 0,
      'last', 0, 'n', 0, 'created', ARGV[1])
  else
    -- Created after the opening: Redis lost the room, or it was turned on mid-sale. The bucket
    -- starts empty: the configured rate from now on, never a crowd at once.
    redis.call('HSET', m, 'epoch', epoch, 'tokens', 0, 'ts', ARGV[1], 'late', 1,
      'last', 0, 'n', 0, 'created', ARGV[1])
  end
  redis.call('PEXPIRE', m, TTL_MS)
  return epoch
end
local function state_of(acc)
  local rec = redis.call('HGET', adm, acc)
  local until_ = redis.call('ZSCORE', act, acc)
  if rec and until_ and tonumber(until_) > now then return {'admitted', -1, rec} end
  local rank = redis.call('ZRANK', q, acc)
  if rank then return {'waiting', rank, redis.call('ZSCORE', q, acc)} end
  if rec == 'left' then return {'left', -1, ''} end
  if rec then return {'expired', -1, rec} end
  return {'none', -1, ''}
end
"""

# ARGV[7] account, [8] its early draw, [9] a receipt's place ('' if none), [10] its epoch.
JOIN_LUA = (
    _COMMON
    + """
local epoch = epoch_of()
local acc = ARGV[7]
local s = state_of(acc)
if s[1] == 'admitted' or s[1] == 'waiting' then
  return {epoch, redis.call('ZCARD', q), s[1], s[2], s[3]}
end
local score
if s[1] == 'none' and ARGV[9] ~= '' and ARGV[10] ~= epoch then
  score = ARGV[9]  -- the place it held before the room lost its state
elseif now < opens then
  score = ARGV[8]
else
  local last = tonumber(redis.call('HGET', m, 'last'))
  local at = now
  if at <= last then at = last + 1 end
  redis.call('HSET', m, 'last', us(at))
  score = us(at)
end
redis.call('HDEL', adm, acc)
redis.call('ZADD', q, score, acc)
redis.call('PEXPIRE', q, TTL_MS)
redis.call('PEXPIRE', adm, TTL_MS)
return {epoch, redis.call('ZCARD', q), 'waiting', redis.call('ZRANK', q, acc),
  redis.call('ZSCORE', q, acc)}
"""
)

# ARGV[7..]: (account, receipt place or '', receipt epoch or '') for each account asking.
POLL_LUA = (
    _COMMON
    + """
local epoch = epoch_of()
local out = {epoch, 0}
for i = 7, #ARGV, 3 do
  local acc = ARGV[i]
  local s = state_of(acc)
  if s[1] == 'none' and ARGV[i + 1] ~= '' and ARGV[i + 2] ~= epoch then
    redis.call('ZADD', q, 'NX', ARGV[i + 1], acc)
    s = state_of(acc)
  end
  out[#out + 1] = s[1]
  out[#out + 1] = s[2]
  out[#out + 1] = s[3]
end
out[2] = redis.call('ZCARD', q)
return out
"""
)

# ARGV[7] the most to admit in this call.
ADVANCE_LUA = (
    _COMMON
    + """
local epoch = epoch_of()
if now < opens then
  return {0, redis.call('ZCARD', q), redis.call('ZCARD', act)}
end
redis.call('ZREMRANGEBYSCORE', act, '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', log_, '-inf', us(now - 60000000))
local free = tonumber(ARGV[4]) - redis.call('ZCARD', act)
local minute_left = rate - redis.call('ZCARD', log_)
local tokens = tonumber(redis.call('HGET', m, 'tokens'))
local ts = tonumber(redis.call('HGET', m, 'ts'))
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 60000000)
  ts = now
end
local n = math.min(math.floor(tokens), free, minute_left, tonumber(ARGV[7]))
local admitted = 0
if n > 0 then
  local popped = redis.call('ZPOPMIN', q, n)
  local until_ = us(now + tonumber(ARGV[5]))
  for i = 1, #popped, 2 do
    local acc = popped[i]
    local jti = epoch .. '-' .. redis.call('HINCRBY', m, 'n', 1)
    redis.call('ZADD', act, until_, acc)
    redis.call('HSET', adm, acc, jti .. '|' .. until_ .. '|' .. ARGV[1])
    redis.call('ZADD', log_, ARGV[1], jti)
    admitted = admitted + 1
  end
  tokens = tokens - admitted
  redis.call('PEXPIRE', act, TTL_MS)
  redis.call('PEXPIRE', adm, TTL_MS)
  redis.call('PEXPIRE', log_, 120000)
end
redis.call('HSET', m, 'tokens', tokens, 'ts', us(ts))
return {admitted, redis.call('ZCARD', q), redis.call('ZCARD', act)}
"""
)

# ARGV[7] account, [8] `left` (DELETE: no place, no record) or `done` (booked, released).
LEAVE_LUA = (
    _COMMON
    + """
local acc = ARGV[7]
redis.call('ZREM', q, acc)
local freed = redis.call('ZREM', act, acc)
if ARGV[8] == 'left' then
  redis.call('HSET', adm, acc, 'left')
  redis.call('PEXPIRE', adm, TTL_MS)
else
  local rec = redis.call('HGET', adm, acc)
  if rec and rec ~= 'left' then
    local jti, until_, at = string.match(rec, '^([^|]+)|([^|]+)|([^|]+)$')
    if tonumber(until_) > now then
      redis.call('HSET', adm, acc, jti .. '|' .. ARGV[1] .. '|' .. at)
    end
  end
end
return freed
"""
)

# ARGV[7] account, [8] jti, [9] the token's epoch, [10] its end (us), [11] its admission (us).
CHECK_LUA = (
    _COMMON
    + """
local epoch = epoch_of()
local acc = ARGV[7]
local rec = redis.call('HGET', adm, acc)
if ARGV[9] ~= epoch and not rec then
  -- Issued before this room state existed (Redis lost the room): its signature vouches for
  -- it. From now on it holds a slot, and ends like any other admission.
  if tonumber(ARGV[10]) <= now then return 'ended' end
  redis.call('ZREM', q, acc)
  redis.call('ZADD', act, ARGV[10], acc)
  redis.call('HSET', adm, acc, ARGV[8] .. '|' .. ARGV[10] .. '|' .. ARGV[11])
  redis.call('PEXPIRE', act, TTL_MS)
  redis.call('PEXPIRE', adm, TTL_MS)
  return 'carried-over'
end
if not rec or rec == 'left' then return 'ended' end
local jti = string.match(rec, '^([^|]+)|')
if jti ~= ARGV[8] then return 'superseded' end
local u = redis.call('ZSCORE', act, acc)
if not u or tonumber(u) <= now then return 'ended' end
return 'ok'
"""
)

CheckOutcome = Literal["ok", "carried-over", "ended", "superseded"]


class RoomUnavailable(Exception):
    """Redis did not answer in time."""


@dataclass(frozen=True)  # no slots: the cached properties live in its __dict__
class RoomConfig:
    """An event's room as its organizer set it (events service), in the units the room uses."""

    event_id: str
    opens_at_us: int
    admission_per_minute: int
    max_shoppers: int
    shopping_us: int

    @classmethod
    def from_settings(cls, room: dict[str, Any]) -> RoomConfig:
        opens = datetime.fromisoformat(str(room["opens_at"]).replace("Z", "+00:00"))
        return cls(
            event_id=str(room["event_id"]),
            opens_at_us=int(opens.timestamp() * 1_000_000),
            admission_per_minute=int(room["admission_per_minute"]),
            max_shoppers=int(room["max_shoppers"]),
            shopping_us=int(room["shopping_minutes"]) * 60_000_000,
        )

    @cached_property
    def opens_at(self) -> str:
        return _iso(self.opens_at_us)

    @cached_property
    def people_per_minute(self) -> float:
        """What the room can sustain: the rate, or the slots turning over if they are fewer."""
        return min(
            float(self.admission_per_minute),
            self.max_shoppers / (self.shopping_us / 60_000_000),
        )


def off_state(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "state": "off",
        "opens_at": None,
        "position": None,
        "people_ahead": None,
        "estimated_wait_seconds": None,
        "admission_token": None,
        "admitted_until": None,
        "poll_after_seconds": POLL_MAX_S,
        "receipt": None,
    }


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat().replace("+00:00", "Z")


def poll_after_waiting(estimated_wait_s: float) -> int:
    """About POLLS_PER_WAIT polls over the wait, within [POLL_MIN_S, POLL_MAX_S]. With N waiting
    and R admitted per minute the room answers at most about N/30 + (4R/60)(1 + ln N) polls a
    second (the person at place i waits i*60/R s): bounded, and set by the organizer's rate."""
    return int(min(POLL_MAX_S, max(POLL_MIN_S, math.ceil(estimated_wait_s / POLLS_PER_WAIT))))


@dataclass(slots=True)
class _Ask:
    account: str
    restore: tuple[int, str] | None
    future: asyncio.Future[tuple[str, str, int, Any]]


class WaitingRoom:
    """The rooms' state in Redis. `redis` is opened and closed by the rate limiter, whose
    connection it shares."""

    def __init__(
        self,
        redis: RedisClient,
        keys: AdmissionKeys,
        *,
        redis_timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.redis_timeout_s = redis_timeout_s
        self.clock = clock
        self._scripts: dict[str, AsyncScript] = {}
        self._pending: dict[str, tuple[RoomConfig, list[_Ask]]] = {}
        self._tokens: OrderedDict[str, str] = OrderedDict()

    def now_us(self) -> int:
        return int(self.clock() * 1_000_000)

    def _script(self, name: str, source: str) -> AsyncScript:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self.redis.client.register_script(source)
        return script

    async def _call(self, name: str, source: str, config: RoomConfig, *args: Any) -> Any:
        event = config.event_id
        keys = [f"wr:{{{event}}}:{part}" for part in ("q", "act", "adm", "log", "m")]
        argv = [
            self.now_us(),
            config.opens_at_us,
            config.admission_per_minute,
            config.max_shoppers,
            config.shopping_us,
            os.urandom(6).hex(),  # the epoch, should this call create the room's state
            *args,
        ]
        try:
            async with asyncio.timeout(self.redis_timeout_s):
                return await self._script(name, source)(keys=keys, args=argv)
        except (RedisError, OSError, TimeoutError) as exc:
            raise RoomUnavailable(repr(exc)) from exc

    # --- a person --------------------------------------------------------------------------

    async def join(
        self, config: RoomConfig, account: str, receipt: str | None = None
    ) -> dict[str, Any]:
        """A place for `account` (the one it has, if any), and its state."""
        restore = self._receipt(config, account, receipt)
        draw = self.keys.draw(config.event_id, config.opens_at_us, account)
        epoch, _waiting, state, rank, detail = await self._call(
            "join",
            JOIN_LUA,
            config,
            account,
            draw,
            restore[0] if restore else "",
            restore[1] if restore else "",
        )
        return self._answer(config, account, _text(epoch), _text(state), int(rank), detail)

    async def poll(
        self, config: RoomConfig, account: str, receipt: str | None = None
    ) -> dict[str, Any] | None:
        """The state of `account`'s place; None if it has none. Polls arriving together are
        asked in one script call per room."""
        restore = self._receipt(config, account, receipt)
        future: asyncio.Future[tuple[str, str, int, Any]] = (
            asyncio.get_running_loop().create_future()
        )
        pending = self._pending.get(config.event_id)
        if pending is None:
            pending = self._pending[config.event_id] = (config, [])
            asyncio.get_running_loop().call_soon(self._flush, config.event_id)
        pending[1].append(_Ask(account, restore, future))
        epoch, state, rank, detail = await future
        if state in ("none", "left"):
            return None
        return self._answer(config, account, epoch, state, rank, detail)

    def _flush(self, event_id: str) -> None:
        config, asks = self._pending.pop(event_id)
        for start in range(0, len(asks), MAX_ACCOUNTS_PER_POLL_CALL):
            task = asyncio.ensure_future(
                self._poll_batch(config, asks[start : start + MAX_ACCOUNTS_PER_POLL_CALL])
            )
            task.add_done_callback(_log_failure)

    async def _poll_batch(self, config: RoomConfig, asks: list[_Ask]) -> None:
        args: list[Any] = []
        for ask in asks:
            args += [
                ask.account,
                ask.restore[0] if ask.restore else "",
                ask.restore[1] if ask.restore else "",
            ]
        try:
            reply = await self._call("poll", POLL_LUA, config, *args)
        except BaseException as exc:
            failure = exc if isinstance(exc, RoomUnavailable) else RoomUnavailable(repr(exc))
            for ask in asks:
                if not ask.future.done():
                    ask.future.set_exception(failure)
            if not isinstance(exc, Exception):
                raise
            return
        epoch = _text(reply[0])
        for index, ask in enumerate(asks):
            state, rank, detail = reply[2 + index * 3 : 5 + index * 3]
            if not ask.future.done():
                ask.future.set_result((epoch, _text(state), int(rank), detail))

    def _receipt(
        self, config: RoomConfig, account: str, receipt: str | None
    ) -> tuple[int, str] | None:
        if not receipt:
            return None
        return self.keys.read_receipt(receipt, event_id=config.event_id, account=account)

    def _answer(
        self,
        config: RoomConfig,
        account: str,
        epoch: str,
        state: str,
        rank: int,
        detail: Any,
    ) -> dict[str, Any]:
        now = self.now_us()
        answer = off_state(config.event_id) | {
            "state": state,
            "opens_at": config.opens_at,
        }
        if state == "waiting":
            score = int(float(_text(detail)))
            answer["receipt"] = self.keys.receipt(config.event_id, account, score, epoch)
            if now < config.opens_at_us:
                # The order is drawn at the opening: no place to tell yet.
                until_open = (config.opens_at_us - now) / 1_000_000
                answer["estimated_wait_seconds"] = math.ceil(until_open)
                # Spread over a few seconds after the opening, so a crowd that arrived early
                # does not ask in the same instant.
                spread = int.from_bytes(os.urandom(1)) % 5
                answer["poll_after_seconds"] = int(
                    min(POLL_MAX_S, max(1, math.ceil(until_open)) + spread)
                )
            else:
                wait = (rank + 1) * 60 / config.people_per_minute
                answer["position"] = rank + 1
                answer["people_ahead"] = rank
                answer["estimated_wait_seconds"] = math.ceil(wait)
                answer["poll_after_seconds"] = poll_after_waiting(wait)
        elif state in ("admitted", "expired"):
            jti, until, admitted_at = _text(detail).split("|")
            until_us = int(float(until))
            answer["admitted_until"] = _iso(until_us)
            if state == "admitted":
                answer["admission_token"] = self._token(
                    Admission(
                        account=account,
                        event_id=config.event_id,
                        jti=jti,
                        epoch=jti.split("-", 1)[0] if "-" in jti else epoch,
                        admitted_at_us=int(float(admitted_at)),
                        until_us=until_us,
                    )
                )
                left = (until_us - now) / 1_000_000
                answer["poll_after_seconds"] = int(min(POLL_MAX_S, max(1, math.ceil(left))))
        return answer

    def _token(self, admission: Admission) -> str:
        """Signed once per admission (Ed25519 signatures are deterministic anyway)."""
        token = self._tokens.get(admission.jti)
        if token is None:
            token = self._tokens[admission.jti] = self.keys.sign(admission)
            if len(self._tokens) > 10_000:
                self._tokens.popitem(last=False)
        return token

    async def leave(self, config: RoomConfig, account: str, *, left: bool) -> bool:
        """`left`: the person gave up their place or shopping time (DELETE); otherwise they are
        done shopping (booked, released their hold). True if a shopping slot was freed."""
        freed = await self._call("leave", LEAVE_LUA, config, account, "left" if left else "done")
        return bool(freed)

    # --- the room ---------------------------------------------------------------------------

    async def advance(self, config: RoomConfig) -> tuple[int, int, int]:
        """Admit whoever may be admitted now: (admitted, still waiting, shopping)."""
        admitted, waiting, shopping = await self._call(
            "advance", ADVANCE_LUA, config, MAX_ADMISSIONS_PER_CALL
        )
        return int(admitted), int(waiting), int(shopping)

    async def check(self, config: RoomConfig, admission: Admission) -> CheckOutcome:
        """Whether a verified admission still holds its slot (not ended, not replaced)."""
        outcome = await self._call(
            "check",
            CHECK_LUA,
            config,
            admission.account,
            admission.jti,
            admission.epoch,
            admission.until_us,
            admission.admitted_at_us,
        )
        found: CheckOutcome = _text(outcome)  # type: ignore[assignment]
        if found == "carried-over":
            log.warning(
                "waiting room: an admission from before the room lost its state was carried over",
                extra={"event_id": config.event_id, "jti": admission.jti},
            )
        return found


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("waiting room poll batch failed", exc_info=task.exception())
