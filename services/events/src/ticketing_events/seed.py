"""Demo data: an organizer and a customer account (through auth's public API), three venues and a
dozen published events. Events are published through the normal path, so inventory holds their
seats. Everything is looked up before it is created: running it again duplicates nothing.

    python -m ticketing_events seed     (needs AUTH_URL, ADMIN_EMAIL, ADMIN_PASSWORD)
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
from ticketing_common.database import Database
from ticketing_common.http_client import ServiceClient
from ticketing_common.platform import Platform, PlatformError, User
from ticketing_common.problems import Problem
from ticketing_common.security import Principal

from ticketing_events import repository
from ticketing_events.clients import InventoryClient
from ticketing_events.events import Events
from ticketing_events.readcache import ReadCache
from ticketing_events.schemas import EventIn, VenueIn
from ticketing_events.settings import SeedSettings
from ticketing_events.venues import VenueCache, Venues, venue_view

log = logging.getLogger(__name__)

ORGANIZER = ("organizer@ticketing.dev", "Organizer-demo-2026", "Demo Organizer")
CUSTOMER = ("customer@ticketing.dev", "Customer-demo-2026", "Demo Customer")


def _seated(section_id: str, name: str, rows: list[str], seats: int) -> dict[str, Any]:
    return {
        "section_id": section_id,
        "name": name,
        "kind": "seated",
        "rows": [{"label": label, "seats": seats} for label in rows],
    }


def _letters(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


def _numbers(count: int) -> list[str]:
    return [str(i) for i in range(1, count + 1)]


THEATRE: dict[str, Any] = {  # 300 + 200 = 500 seats
    "name": "Riverside Theatre",
    "city": "London",
    "country": "GB",
    "address": "12 Riverside Walk, London SE1 9PX",
    "timezone": "Europe/London",
    "sections": [
        _seated("STALLS", "Stalls", _letters(15), 20),
        _seated("CIRCLE", "Dress Circle", _letters(8), 25),
    ],
}
ARENA: dict[str, Any] = {  # 6,000 standing + 20 blocks x 25 rows x 28 seats = 20,000 places
    "name": "Spree Arena",
    "city": "Berlin",
    "country": "DE",
    "address": "Mühlenstraße 12, 10243 Berlin",
    "timezone": "Europe/Berlin",
    "sections": [
        {"section_id": "FLOOR", "name": "Floor (standing)", "kind": "standing", "capacity": 6000},
        *(_seated(f"B{n}", f"Block {n}", _numbers(25), 28) for n in range(1, 21)),
    ],
}
STADIUM: dict[str, Any] = {  # 4 stands x 10 sections x 30 rows x 50 seats = 60,000 seats
    "name": "Bayfront Stadium",
    "city": "San Francisco",
    "country": "US",
    "address": "1 Bayfront Way, San Francisco, CA 94158",
    "timezone": "America/Los_Angeles",
    "sections": [
        _seated(f"{stand}{n}", f"{name} Stand {n}", _numbers(30), 50)
        for stand, name in (("N", "North"), ("E", "East"), ("S", "South"), ("W", "West"))
        for n in range(1, 11)
    ],
}


def _tiers(currency: str, **prices: int) -> list[dict[str, Any]]:
    return [{"tier": t, "price_cents": p, "currency": currency} for t, p in prices.items()]


def _theatre_tiers(venue: dict[str, Any]) -> dict[str, str]:
    return {"STALLS": "stalls", "CIRCLE": "circle"}


def _arena_tiers(venue: dict[str, Any]) -> dict[str, str]:
    return {
        s["section_id"]: "floor"
        if s["kind"] == "standing"
        else ("lower" if int(s["section_id"][1:]) <= 10 else "upper")
        for s in venue["sections"]
    }


def _stadium_tiers(venue: dict[str, Any]) -> dict[str, str]:
    return {
        s["section_id"]: "sideline" if s["section_id"][0] in "EW" else "end"
        for s in venue["sections"]
    }


@dataclass(frozen=True)
class DemoEvent:
    title: str
    category: str
    venue: dict[str, Any]
    days_ahead: int
    hour: int
    hours: int
    price_tiers: list[dict[str, Any]]
    description: str

    def body(self, venue: dict[str, Any], today: date) -> EventIn:
        zone = ZoneInfo(venue["timezone"])
        day = today + timedelta(days=self.days_ahead)
        starts_at = datetime.combine(day, time(self.hour), tzinfo=zone).astimezone(UTC)
        tiers = {"Riverside Theatre": _theatre_tiers, "Spree Arena": _arena_tiers}.get(
            venue["name"], _stadium_tiers
        )(venue)
        return EventIn(
            venue_id=venue["venue_id"],
            title=self.title,
            description=self.description,
            category=self.category,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=self.hours),
            price_tiers=self.price_tiers,
            section_tiers=tiers,
        )


GBP = _tiers("GBP", stalls=6500, circle=4200)
EUR = _tiers("EUR", floor=7900, lower=9900, upper=5900)
USD = _tiers("USD", sideline=15000, end=8500)

EVENTS = [
    DemoEvent("Hamlet", "theatre", THEATRE, 14, 19, 3, GBP, "Shakespeare's tragedy, uncut."),
    DemoEvent(
        "The Importance of Being Earnest", "theatre", THEATRE, 21, 19, 2, GBP, "Wilde's comedy."
    ),
    DemoEvent("Stand-up Saturday", "comedy", THEATRE, 9, 20, 2, GBP, "Five comics, one night."),
    DemoEvent(
        "Strings by Candlelight", "classical", THEATRE, 30, 19, 2, GBP, "Vivaldi's Four Seasons."
    ),
    DemoEvent("Neon Skyline World Tour", "concert", ARENA, 12, 20, 3, EUR, "The synth-pop tour."),
    DemoEvent(
        "Berlin Basketball Derby", "sports", ARENA, 18, 18, 3, EUR, "The city's two clubs meet."
    ),
    DemoEvent("Electronic Nights", "concert", ARENA, 25, 22, 5, EUR, "Techno until late."),
    DemoEvent("Ice Spectacular", "family", ARENA, 40, 15, 2, EUR, "Skaters, lights and music."),
    DemoEvent("Bay Bombers vs Harbor Kings", "sports", STADIUM, 10, 13, 3, USD, "Season opener."),
    DemoEvent(
        "Summer Anthems Festival", "concert", STADIUM, 45, 16, 7, USD, "Eight bands, one stage."
    ),
    DemoEvent("Championship Final", "sports", STADIUM, 60, 17, 3, USD, "The title decider."),
    DemoEvent(
        "Fireworks & Symphony", "family", STADIUM, 35, 20, 2, USD, "An orchestra under the sky."
    ),
]


def ensure_account(auth: Platform, email: str, password: str, name: str) -> User:
    """The account, registered now or found (then its demo password must still work)."""
    body = {"email": email, "password": password, "name": name}
    status, user = auth.request(
        "POST", "/api/v1/auth/register", json=body, ok=(201, 409), what=f"register {email}"
    )
    return cast(User, user) if status == 201 else auth.me(auth.login(email, password))


def demo_accounts(auth_url: str, admin: tuple[str, str]) -> tuple[User, User]:
    """The demo organizer (made one by the admin if it is not yet) and customer, through auth's
    public API as a person would make them."""
    auth = Platform(auth_url)
    try:
        organizer = ensure_account(auth, *ORGANIZER)
        customer = ensure_account(auth, *CUSTOMER)
        if organizer["role"] not in ("organizer", "admin"):
            auth.set_role(auth.login(*admin), organizer["id"], "organizer")
    finally:
        auth.close()
    return organizer, customer


async def seed(settings: SeedSettings, today: date | None = None) -> dict[str, int]:
    """Create what is missing; returns counts of what this run created and published."""
    if not (settings.admin_email and settings.admin_password):
        sys.exit("seed: ADMIN_EMAIL and ADMIN_PASSWORD are needed to promote the organizer")
    admin = (settings.admin_email, settings.admin_password.get_secret_value())
    try:
        organizer, customer = await asyncio.to_thread(demo_accounts, settings.auth_url, admin)
    except (PlatformError, httpx.HTTPError) as exc:
        sys.exit(f"seed: {exc}")
    today = today or datetime.now(UTC).date()
    as_organizer = Principal(
        user_id=organizer["id"],
        role="organizer",
        token_id="seed",  # noqa: S106 - an id, not a secret
        expires_at=0,
        claims={},
    )
    database = Database.from_settings(settings)
    services = ServiceClient.from_settings(settings)
    await database.start()
    await services.start()
    created = {"venues": 0, "events": 0, "published": 0}
    try:
        inventory = InventoryClient(
            services,
            settings.inventory_url,
            layout_timeout_s=settings.inventory_layout_timeout_s,
            timeout_s=settings.inventory_timeout_s,
        )
        venues: dict[str, dict[str, Any]] = {}
        async with database.session() as db:
            for spec in (THEATRE, ARENA, STADIUM):
                found = await repository.venue_named(db, organizer["id"], spec["name"])
                if found is None:
                    venues[spec["name"]] = await Venues(db).create(
                        as_organizer, VenueIn.model_validate(spec)
                    )
                    created["venues"] += 1
                else:
                    venues[spec["name"]] = venue_view(found)
            events = Events(db, inventory, VenueCache(), ReadCache(ttl_s=0))
            for demo in EVENTS:
                event = await repository.event_titled(db, organizer["id"], demo.title)
                if event is None:
                    body = demo.body(venues[demo.venue["name"]], today)
                    event = await events.create(as_organizer, body)
                    created["events"] += 1
                if event["status"] == "draft":
                    try:
                        await events.publish(as_organizer, event["event_id"])
                    except Problem as exc:
                        if exc.status != 409:
                            sys.exit(f"seed: cannot publish {demo.title!r}: {exc.detail}")
                        print(f"seed: {demo.title!r} stays a draft: {exc.detail}", flush=True)
                        continue
                    created["published"] += 1
    finally:
        await services.stop()
        await database.stop()
    print(
        "Demo data ready: "
        f"{created['venues']} venues and {created['events']} events created, "
        f"{created['published']} published now (3 venues, {len(EVENTS)} events in all).\n"
        "Demo accounts:\n"
        f"  admin      {admin[0]} / {admin[1]}\n"
        f"  organizer  {ORGANIZER[0]} / {ORGANIZER[1]}   (id {organizer['id']})\n"
        f"  customer   {CUSTOMER[0]} / {CUSTOMER[1]}   (id {customer['id']})",
        flush=True,
    )
    return created
