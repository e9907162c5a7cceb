import sys
import time

import httpx
import redis
from ticketing_devkit.processes import ServiceProcess, run_command
from ticketing_devkit.pytest_plugin import bearer
from ticketing_devkit.services import ADMIN


def test_seed_creates_the_demo_world_once(  # type: ignore[no-untyped-def]
    auth: ServiceProcess,
    inventory: ServiceProcess,
    events: ServiceProcess,
    events_env: dict[str, str],
    api: httpx.Client,
    redis_client: redis.Redis,
    eventually,
) -> None:
    env = events_env | {
        "AUTH_URL": auth.url,
        "ADMIN_EMAIL": ADMIN.email,
        "ADMIN_PASSWORD": ADMIN.password,
    }
    first = run_command([sys.executable, "-m", "ticketing_events", "seed"], env)
    assert "3 venues and 12 events created, 12 published now" in first
    for line in ("organizer@ticketing.dev / Organizer-demo-2026", "customer@ticketing.dev / "):
        assert line in first

    by_city = {
        city: api.get("/events", params={"city": city, "limit": 100}).json()["items"]
        for city in ("London", "Berlin", "San Francisco")
    }
    assert {city: len(items) for city, items in by_city.items()} == {
        "London": 4,
        "Berlin": 4,
        "San Francisco": 4,
    }
    categories = {e["category"] for items in by_city.values() for e in items}
    assert len(categories) >= 4
    venues = {
        city: api.get(f"/venues/{items[0]['venue_id']}").json() for city, items in by_city.items()
    }
    assert venues["London"]["capacity"] == 500
    assert venues["Berlin"]["capacity"] == 20_000
    assert "standing" in {s["kind"] for s in venues["Berlin"]["sections"]}
    assert venues["San Francisco"]["capacity"] == 60_000
    assert {s["kind"] for s in venues["San Francisco"]["sections"]} == {"seated"}

    # Published through the normal path: inventory holds every seat of the stadium.
    stadium_event = by_city["San Francisco"][0]["event_id"]
    availability = httpx.get(
        f"{inventory.url}/api/v1/inventory/events/{stadium_event}/availability"
    ).json()
    assert sum(s["available"] for s in availability["sections"]) == 60_000

    organizer_id = by_city["London"][0]["organizer_id"]
    login = httpx.post(
        f"{auth.url}/api/v1/auth/login",
        json={"email": "organizer@ticketing.dev", "password": "Organizer-demo-2026"},
    )
    me = httpx.get(f"{auth.url}/api/v1/auth/me", headers=bearer(login.json()["access_token"]))
    assert (me.json()["id"], me.json()["role"]) == (organizer_id, "organizer")

    second = run_command([sys.executable, "-m", "ticketing_events", "seed"], env)
    assert "0 venues and 0 events created, 0 published now" in second
    time.sleep(float(events_env["PUBLIC_READ_CACHE_TTL_S"]))  # past the listing's cached pages
    for city, items in by_city.items():
        again = api.get("/events", params={"city": city, "limit": 100}).json()["items"]
        assert [e["event_id"] for e in again] == [e["event_id"] for e in items]

    def published_facts() -> int:
        ids = {e["event_id"] for items in by_city.values() for e in items}
        return sum(
            1
            for _, fields in redis_client.xrange("facts:event")
            if b'"event.published"' in fields[b"envelope"]
            and any(i.encode() in fields[b"envelope"] for i in ids)
        )

    eventually(lambda: published_facts() == 12)
