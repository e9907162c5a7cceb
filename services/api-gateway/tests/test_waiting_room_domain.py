"""The waiting room's queue and admission against the real Redis, on an injected clock (minutes of
an on-sale in milliseconds of test): the order at the opening, first come first served after it,
the rate and slot limits under concurrent callers, and what a Redis loss does."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_api_gateway.admission import Admission, AdmissionKeys, InvalidAdmission
from ticketing_api_gateway.waiting_room import RoomConfig, WaitingRoom, poll_after_waiting
from ticketing_common.redis import RedisClient

OPENS = 1_900_000_000.0  # seconds; the fake clock starts a minute before


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[RedisClient]:
    client = RedisClient(redis_url)
    await client.start()
    yield client
    await client.stop()


@pytest.fixture
def keys() -> AdmissionKeys:
    return AdmissionKeys(ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def clock() -> Clock:
    return Clock(OPENS - 60)


@pytest.fixture
def room(redis_client: RedisClient, keys: AdmissionKeys, clock: Clock) -> WaitingRoom:
    return WaitingRoom(redis_client, keys, redis_timeout_s=5, clock=clock)


def config(**overrides: Any) -> RoomConfig:
    values: dict[str, Any] = {
        "event_id": f"evt-{uuid.uuid4().hex[:8]}",
        "opens_at_us": int(OPENS * 1_000_000),
        "admission_per_minute": 600,
        "max_shoppers": 100_000,
        "shopping_us": 10 * 60_000_000,
    } | overrides
    return RoomConfig(**values)


async def admitted_order(room: WaitingRoom, cfg: RoomConfig, accounts: list[str]) -> list[str]:
    """Accounts in the order they were admitted (by admission time, then jti)."""
    found = []
    for account in accounts:
        state = await room.poll(cfg, account)
        assert state is not None
        if state["state"] == "admitted":
            claims = jwt.decode(state["admission_token"], options={"verify_signature": False})
            found.append((claims["iat"], int(claims["jti"].split("-")[1]), account))
    return [account for *_, account in sorted(found)]


async def run_for(room: WaitingRoom, cfg: RoomConfig, clock: Clock, seconds: float) -> list[int]:
    """Tick every 0.5 s of fake time; the admissions of each tick."""
    counts = []
    for _ in range(int(seconds * 2)):
        clock.now += 0.5
        counts.append((await room.advance(cfg))[0])
    return counts


async def test_early_arrivals_are_shuffled_at_the_opening_and_later_ones_keep_their_order(
    room: WaitingRoom, clock: Clock
) -> None:
    cfg = config(admission_per_minute=60_000)
    early = [f"early-{i:03d}" for i in range(60)]
    for account in early:
        clock.now += 0.5  # arrivals in this order, before the opening
        state = await room.join(cfg, account)
        assert state["state"] == "waiting"
        assert state["position"] is None  # not drawn yet
        assert state["estimated_wait_seconds"] == pytest.approx(OPENS - clock.now, abs=1)
    # Refreshing (or joining again from another tab) does not change a place.
    again = await room.join(cfg, early[0])
    assert again["receipt"] == (await room.poll(cfg, early[0]))["receipt"]  # type: ignore[index]

    clock.now = OPENS + 0.001
    late = [f"late-{i:03d}" for i in range(30)]
    for account in late:
        clock.now += 0.01
        await room.join(cfg, account)
    positions = {a: (await room.poll(cfg, a))["position"] for a in early + late}  # type: ignore[index]
    # Every early arrival comes before every later one; later ones in arrival order.
    assert sorted(positions[a] for a in early) == list(range(1, 61))
    assert [positions[a] for a in late] == list(range(61, 91))
    early_order = sorted(early, key=lambda a: positions[a])
    assert early_order != early  # 1 in 60! that a fair shuffle keeps the arrival order
    # Neither arrival order nor its reverse: a fair draw is uncorrelated with arrival.
    ranks = [early.index(a) for a in early_order]
    mean = sum(range(60)) / 60
    covariance = sum((i - mean) * (r - mean) for i, r in enumerate(ranks))
    variance = sum((i - mean) ** 2 for i in range(60))
    assert abs(covariance / variance) < 0.5

    await run_for(room, cfg, clock, 2)
    order = await admitted_order(room, cfg, early + late)
    assert order == early_order + late


async def test_the_draw_is_the_accounts_and_the_openings_not_the_moment(
    room: WaitingRoom, keys: AdmissionKeys, clock: Clock
) -> None:
    cfg = config()
    first = await room.join(cfg, "alice")
    await room.leave(cfg, "alice", left=True)
    clock.now += 30
    second = await room.join(cfg, "alice")  # leaving and coming back draws the same place
    assert first["receipt"].split(".")[0] == second["receipt"].split(".")[0]
    moved = config(event_id=cfg.event_id, opens_at_us=cfg.opens_at_us + 1)
    assert keys.draw(cfg.event_id, cfg.opens_at_us, "alice") != keys.draw(
        moved.event_id, moved.opens_at_us, "alice"
    )


async def test_nobody_is_admitted_before_the_opening(room: WaitingRoom, clock: Clock) -> None:
    cfg = config()
    for i in range(5):
        await room.join(cfg, f"a{i}")
    assert await run_for(room, cfg, clock, 59) == [0] * 118
    assert sum(await run_for(room, cfg, clock, 2)) > 0


async def test_admissions_stay_within_the_rate_in_every_minute(
    room: WaitingRoom, clock: Clock, redis_url: str
) -> None:
    cfg = config(admission_per_minute=120)
    for i in range(1000):
        await room.join(cfg, f"p{i:04d}")
    clock.now = OPENS
    counts = await run_for(room, cfg, clock, 300)  # five minutes, a tick each 0.5 s
    assert sum(counts) == pytest.approx(600, abs=3)  # at the rate: 120 a minute
    # Every sliding 60 s window (120 ticks) holds at most the rate, and no tick a crowd.
    for start in range(len(counts) - 120):
        assert sum(counts[start : start + 120]) <= 120
    assert max(counts) <= 2  # smoothed: one second's worth at most


async def test_never_more_shoppers_than_slots_and_leaving_frees_one(
    room: WaitingRoom, clock: Clock
) -> None:
    cfg = config(admission_per_minute=6000, max_shoppers=5, shopping_us=60_000_000)
    accounts = [f"s{i}" for i in range(20)]
    for account in accounts:
        await room.join(cfg, account)
    clock.now = OPENS
    assert sum(await run_for(room, cfg, clock, 5)) == 5
    shopping = [a for a in accounts if (await room.poll(cfg, a))["state"] == "admitted"]  # type: ignore[index]
    assert len(shopping) == 5
    assert await room.leave(cfg, shopping[0], left=False)  # booked
    assert (await room.poll(cfg, shopping[0]))["state"] == "expired"  # type: ignore[index]
    assert await room.leave(cfg, shopping[1], left=True)  # gave up
    assert await room.poll(cfg, shopping[1]) is None
    assert sum(await run_for(room, cfg, clock, 1)) == 2
    # A shopping time that runs out frees its slot too.
    clock.now += 61
    assert sum(await run_for(room, cfg, clock, 1)) == 5
    assert (await room.poll(cfg, shopping[2]))["state"] == "expired"  # type: ignore[index]


async def test_concurrent_replicas_keep_both_limits(
    redis_url: str, keys: AdmissionKeys, clock: Clock
) -> None:
    """Four gateways' worth of clients (separate connections) joining and admitting at once."""
    cfg = config(admission_per_minute=600, max_shoppers=7)
    replicas = [RedisClient(redis_url) for _ in range(4)]
    for client in replicas:
        await client.start()
    rooms = [WaitingRoom(client, keys, redis_timeout_s=5, clock=clock) for client in replicas]
    try:
        wide = config(admission_per_minute=600)
        await asyncio.gather(*(rooms[i % 4].join(cfg, f"c{i:03d}") for i in range(200)))
        await asyncio.gather(*(rooms[i % 4].join(wide, f"w{i:03d}") for i in range(200)))
        clock.now = OPENS + 30  # the bucket holds one second's worth: 10
        results = await asyncio.gather(*(rooms[i % 4].advance(cfg) for i in range(40)))
        assert sum(admitted for admitted, _, _ in results) == 7  # the slots, not the bucket
        assert max(shopping for _, _, shopping in results) == 7
        states = await asyncio.gather(*(rooms[i % 4].poll(cfg, f"c{i:03d}") for i in range(200)))
        assert sum(1 for s in states if s and s["state"] == "admitted") == 7
        # Plenty of slots, many concurrent admitters: the bucket (10) and no more.
        results = await asyncio.gather(*(rooms[i % 4].advance(wide) for i in range(40)))
        assert sum(admitted for admitted, _, _ in results) == 10
    finally:
        for client in replicas:
            await client.stop()


async def test_positions_and_polling_intervals(room: WaitingRoom, clock: Clock) -> None:
    cfg = config(admission_per_minute=60)
    clock.now = OPENS + 1
    for i in range(300):
        await room.join(cfg, f"q{i:03d}")
    first = await room.poll(cfg, "q000")
    last = await room.poll(cfg, "q299")
    assert first is not None
    assert last is not None
    assert (first["position"], first["people_ahead"]) == (1, 0)
    assert (last["position"], last["people_ahead"]) == (300, 299)
    assert last["estimated_wait_seconds"] == 300  # 60 a minute
    assert first["poll_after_seconds"] == 2
    assert last["poll_after_seconds"] == 30
    assert poll_after_waiting(40) == 10


async def test_polls_arriving_together_share_one_call(
    room: WaitingRoom, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config()
    for i in range(50):
        await room.join(cfg, f"b{i}")
    calls = []
    real = room._call

    async def counting(name: str, *args: Any) -> Any:
        calls.append(name)
        return await real(name, *args)

    monkeypatch.setattr(room, "_call", counting)
    states = await asyncio.gather(*(room.poll(cfg, f"b{i}") for i in range(50)))
    assert all(s is not None and s["state"] == "waiting" for s in states)
    assert calls == ["poll"]


async def test_a_lost_room_comes_back_at_the_rate_with_places_and_tokens_kept(
    room: WaitingRoom, keys: AdmissionKeys, clock: Clock, redis_url: str
) -> None:
    cfg = config(admission_per_minute=120, max_shoppers=10)
    accounts = [f"r{i:03d}" for i in range(40)]
    clock.now = OPENS + 1
    receipts = {}
    for account in accounts:
        clock.now += 0.01
        receipts[account] = (await room.join(cfg, account))["receipt"]
    await run_for(room, cfg, clock, 2)  # the bucket's 2, then one a second: 4
    before = {a: await room.poll(cfg, a) for a in accounts}
    shopping = [a for a in accounts if before[a]["state"] == "admitted"]  # type: ignore[index]
    assert len(shopping) == 4
    token = before[shopping[0]]["admission_token"]  # type: ignore[index]
    waiting_positions = {
        a: s["position"]  # type: ignore[index]
        for a, s in before.items()
        if s["state"] == "waiting"  # type: ignore[index]
    }

    flushed = aioredis.from_url(redis_url)
    await flushed.flushdb()  # the test's own Redis db: the whole room state is gone
    await flushed.aclose()

    # No receipt: told there is no place (a 404 says the room may have lost it), not a silent
    # new place at the back.
    assert await room.poll(cfg, accounts[-1]) is None
    # With receipts, places come back in the order they had.
    restored = {a: await room.poll(cfg, a, receipts[a]) for a in waiting_positions}
    assert all(s is not None and s["state"] == "waiting" for s in restored.values())
    assert sorted(waiting_positions, key=lambda a: restored[a]["position"]) == sorted(  # type: ignore[index]
        waiting_positions, key=waiting_positions.__getitem__
    )
    # Someone new comes after them all.
    newcomer = await room.join(cfg, "newcomer")
    assert newcomer["position"] == len(waiting_positions) + 1

    # The new state admits at the rate from an empty bucket, never everyone at once.
    counts = await run_for(room, cfg, clock, 10)
    assert counts[0] == 0 or counts[0] == 1
    assert sum(counts) <= 1 + 10 * 2

    # A token issued before the loss still verifies, and from its first use holds a slot.
    admission = keys.verify(token, account=shopping[0], event_id=cfg.event_id, now_s=clock.now)
    assert await room.check(cfg, admission) == "carried-over"
    assert await room.check(cfg, admission) == "ok"
    assert (await room.poll(cfg, shopping[0]))["state"] == "admitted"  # type: ignore[index]
    await room.leave(cfg, shopping[0], left=False)
    assert await room.check(cfg, admission) == "ended"  # and is done with like any other


async def test_a_token_is_checked_against_its_admission(
    room: WaitingRoom, keys: AdmissionKeys, clock: Clock
) -> None:
    cfg = config(max_shoppers=10, shopping_us=60_000_000)
    await room.join(cfg, "tom")
    clock.now = OPENS
    await run_for(room, cfg, clock, 1)
    state = await room.poll(cfg, "tom")
    assert state is not None
    assert state["state"] == "admitted"
    admission = keys.verify(
        state["admission_token"], account="tom", event_id=cfg.event_id, now_s=clock.now
    )
    assert await room.check(cfg, admission) == "ok"
    # Joining again while admitted keeps the admission (the same token).
    assert (await room.join(cfg, "tom"))["admission_token"] == state["admission_token"]
    # Done shopping, then queued and admitted anew: the old token is replaced.
    await room.leave(cfg, "tom", left=False)
    assert await room.check(cfg, admission) == "ended"
    await room.join(cfg, "tom")
    await run_for(room, cfg, clock, 1)
    renewed = await room.poll(cfg, "tom")
    assert renewed is not None
    assert renewed["admission_token"] != state["admission_token"]
    assert await room.check(cfg, admission) == "superseded"
    with pytest.raises(InvalidAdmission, match="another account"):
        keys.verify(
            state["admission_token"], account="jerry", event_id=cfg.event_id, now_s=clock.now
        )
    with pytest.raises(InvalidAdmission, match="another event"):
        keys.verify(state["admission_token"], account="tom", event_id="evt-x", now_s=clock.now)


def test_forged_unsigned_and_expired_tokens_are_refused(keys: AdmissionKeys) -> None:
    now = int(datetime.now(UTC).timestamp())
    good = Admission("ann", "evt-1", "e-1", "e", now * 1_000_000, (now + 60) * 1_000_000)
    assert keys.verify(keys.sign(good), account="ann", event_id="evt-1") == good
    claims = {
        "iss": "ticketing-gateway",
        "aud": "ticketing-waiting-room",
        "sub": "ann",
        "evt": "evt-1",
        "jti": "e-1",
        "rep": "e",
        "iat": now,
        "exp": now + 60,
    }
    forged = jwt.encode(
        claims,
        ed25519.Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": keys.kid},
    )
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": keys.kid})
    hmac_signed = jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": keys.kid})
    expired = keys.sign(
        Admission("ann", "evt-1", "e-1", "e", (now - 120) * 1_000_000, (now - 60) * 1_000_000)
    )
    for token in (forged, unsigned, hmac_signed, expired, "not-a-token", ""):
        with pytest.raises(InvalidAdmission):
            keys.verify(token, account="ann", event_id="evt-1")
    stripped = ".".join(keys.sign(good).split(".")[:2]) + "."
    with pytest.raises(InvalidAdmission):
        keys.verify(stripped, account="ann", event_id="evt-1")


def test_receipts_are_bound_to_their_account_and_event(keys: AdmissionKeys) -> None:
    receipt = keys.receipt("evt-1", "ann", 12345, "abc")
    assert keys.read_receipt(receipt, event_id="evt-1", account="ann") == (12345, "abc")
    assert keys.read_receipt(receipt, event_id="evt-1", account="bob") is None
    assert keys.read_receipt(receipt, event_id="evt-2", account="ann") is None
    tampered = "1." + receipt.split(".", 1)[1]
    assert keys.read_receipt(tampered, event_id="evt-1", account="ann") is None
    assert keys.read_receipt("junk", event_id="evt-1", account="ann") is None


def test_room_config_from_the_events_settings() -> None:
    opens = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=1)
    cfg = RoomConfig.from_settings(
        {
            "event_id": "e",
            "opens_at": opens.isoformat(),
            "admission_per_minute": 100,
            "max_shoppers": 50,
            "shopping_minutes": 10,
        }
    )
    assert cfg.opens_at_us == int(opens.timestamp()) * 1_000_000
    assert cfg.people_per_minute == 5  # 50 slots turning over every 10 minutes
