"""Public reads are served from memory for a moment (ReadCache): changes made through the
service show at once, changes made elsewhere (another instance) within the TTL."""

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from ticketing_devkit.pytest_plugin import bearer
from ticketing_events.readcache import ReadCache


def test_entries_expire_and_the_oldest_go_first() -> None:
    cache = ReadCache(ttl_s=0.2, size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now "b" is the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    time.sleep(0.25)
    assert cache.get("a") is None
    cache.put("d", 4)
    cache.clear()
    assert cache.get("d") is None


def test_a_zero_ttl_keeps_nothing() -> None:
    cache = ReadCache(ttl_s=0)
    cache.put("a", 1)
    assert cache.get("a") is None


async def test_concurrent_misses_share_one_load() -> None:
    cache = ReadCache(ttl_s=5)
    loads = 0
    release = asyncio.Event()

    async def load() -> str:
        nonlocal loads
        loads += 1
        await release.wait()
        return f"value {loads}"

    waiting = [asyncio.ensure_future(cache.get_or_load("a", load)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["value 1"] * 20
    assert loads == 1
    assert await cache.get_or_load("a", load) == "value 1"  # kept: no second load


async def test_a_load_begun_before_a_change_is_not_kept() -> None:
    cache = ReadCache(ttl_s=5)
    release = asyncio.Event()
    versions = iter(["before the change", "after the change"])

    async def load() -> str:
        value = next(versions)
        await release.wait()
        return value

    in_flight = asyncio.ensure_future(cache.get_or_load("a", load))
    await asyncio.sleep(0)
    cache.clear()  # a change commits while the read is in flight
    release.set()
    assert await in_flight == "before the change"  # its own caller gets what it read...
    assert await cache.get_or_load("a", load) == "after the change"  # ...nobody after it


async def test_nothing_found_is_not_kept_and_a_failed_load_is_retried() -> None:
    cache = ReadCache(ttl_s=5)
    answers: list[object] = [None, RuntimeError("database down"), "found"]

    async def load() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await cache.get_or_load("a", load) is None
    with pytest.raises(RuntimeError):
        await cache.get_or_load("a", load)
    assert await cache.get_or_load("a", load) == "found"


def execute_sql(database_url: str, statement: str, *args: Any) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        try:
            await connection.execute(statement, *args)
        finally:
            await connection.close()

    asyncio.run(run())


def test_a_change_through_the_service_shows_at_once(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    token = organizer[1]
    city = f"Cache-{uuid.uuid4().hex[:8]}"
    venue = make.venue(token, city=city)
    draft = make.event(token, venue, title="Before")
    path = f"/events/{draft['event_id']}"
    assert api.get(path, headers=bearer(token)).json()["title"] == "Before"
    assert api.get("/events", params={"city": city}).json()["items"] == []
    assert api.get(path).status_code == 404  # a draft, to the public

    patched = api.patch(path, json={"title": "After"}, headers=bearer(token))
    assert patched.status_code == 200, patched.text
    assert api.get(path, headers=bearer(token)).json()["title"] == "After"

    assert api.post(f"{path}/publish", headers=bearer(token)).status_code == 200
    assert api.get(path).json()["status"] == "on_sale"
    listed = api.get("/events", params={"city": city}).json()["items"]
    assert [e["event_id"] for e in listed] == [draft["event_id"]]

    assert api.post(f"{path}/cancel", headers=bearer(token)).status_code == 200
    assert api.get(path).json()["status"] == "cancelled"
    assert api.get("/events", params={"city": city}).json()["items"] == []


def test_a_change_made_elsewhere_shows_within_the_ttl(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, database_url, events_env
) -> None:
    ttl_s = float(events_env["PUBLIC_READ_CACHE_TTL_S"])
    event = make.published(organizer[1], title="Original")
    path = f"/events/{event['event_id']}"
    read_at = time.monotonic()
    assert api.get(path).json()["title"] == "Original"
    # What another instance's change looks like to this one: the row changes underneath.
    execute_sql(
        database_url, "UPDATE events SET title = 'Renamed' WHERE event_id = $1", event["event_id"]
    )
    changed_at = time.monotonic()
    stale_reads = 0
    while api.get(path).json()["title"] != "Renamed":
        stale_reads += 1
        assert time.monotonic() - changed_at < ttl_s + 1, "the change never showed"
        time.sleep(0.05)
    assert time.monotonic() - read_at >= ttl_s  # not before the remembered read expired
    assert stale_reads > 0  # ...which it was served from until then


def test_public_reads_carry_validators_and_change_them_with_the_event(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    token = organizer[1]
    city = f"Etag-{uuid.uuid4().hex[:8]}"
    draft = make.event(token, make.venue(token, city=city))
    path = f"/events/{draft['event_id']}"
    private = api.get(path, headers=bearer(token))
    assert private.headers["cache-control"] == "private, no-cache"  # a draft: its owner only

    assert api.post(f"{path}/publish", headers=bearer(token)).status_code == 200
    published = api.get(path)
    assert published.headers["cache-control"] == "public, max-age=5"
    etag = published.headers["etag"]
    assert etag != private.headers["etag"]  # the status changed, so did the representation
    revalidated = api.get(path, headers={"If-None-Match": etag})
    assert (revalidated.status_code, revalidated.content) == (304, b"")
    assert revalidated.headers["etag"] == etag
    assert revalidated.headers["cache-control"] == "public, max-age=5"

    page = api.get("/events", params={"city": city})
    assert page.headers["cache-control"] == "public, max-age=5"
    assert [e["event_id"] for e in page.json()["items"]] == [draft["event_id"]]
    same = api.get(
        "/events", params={"city": city}, headers={"If-None-Match": page.headers["etag"]}
    )
    assert same.status_code == 304

    assert api.post(f"{path}/cancel", headers=bearer(token)).status_code == 200
    cancelled = api.get(path, headers={"If-None-Match": etag})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.headers["etag"] != etag
    emptied = api.get(
        "/events", params={"city": city}, headers={"If-None-Match": page.headers["etag"]}
    )
    assert emptied.status_code == 200
    assert emptied.json()["items"] == []
