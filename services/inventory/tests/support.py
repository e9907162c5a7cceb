"""What the inventory tests share: tokens, the service over HTTP, the truth it rebuilds from."""

import asyncio
import random
import time
import uuid
from typing import Any

import aiohttp
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from ticketing_common import contracts
from ticketing_devkit.peers import peer_routes
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.tokens import FakeIssuer

SERVICE_TOKEN = "inventory-test-service-token"
INTERNAL = {"X-Service-Token": SERVICE_TOKEN}
APP = "ticketing_inventory.main:create_app"
ISSUER = FakeIssuer("test")
JWKS = ISSUER.jwks()


def _token(user_id: str, role: str = "customer") -> str:
    return ISSUER.token(user_id, role, ttl_s=3600)


def _layout(
    sections: dict[str, tuple[int, int]], standing: dict[str, int] | None = None
) -> dict[str, Any]:
    """{section: (rows, seats per row)} seated, {section: capacity} standing."""
    seats = [
        {"seat_id": f"{section}-{row}-{number}", "section_id": section, "price_tier": "std"}
        for section, (rows, per_row) in sections.items()
        for row in range(1, rows + 1)
        for number in range(1, per_row + 1)
    ]
    places = [
        {"section_id": section, "capacity": capacity, "price_tier": "ga"}
        for section, capacity in (standing or {}).items()
    ]
    return {"seats": seats, "standing": places}


class Inventory:
    """The service over real HTTP, with the calls (and the data) tests make."""

    layout = staticmethod(_layout)
    token = staticmethod(_token)

    @staticmethod
    def auth(user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {_token(user_id)}"}

    @staticmethod
    def new_event_id() -> str:
        return f"evt-{uuid.uuid4().hex[:12]}"

    @staticmethod
    def assert_counts_add_up(availability: dict[str, Any]) -> None:
        for section in availability["sections"]:
            assert section["available"] >= 0, section
            assert section["held"] >= 0, section
            assert section["sold"] >= 0, section
            total = section["available"] + section["held"] + section["sold"]
            assert total == section["capacity"], section

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def create_event(self, layout: dict[str, Any], event_id: str | None = None) -> str:
        event_id = event_id or self.new_event_id()
        response = self.put_layout(event_id, layout)
        assert response.status_code == 200, response.text
        return event_id

    def put_layout(self, event_id: str, layout: dict[str, Any]) -> httpx.Response:
        return self.http.put(f"/internal/events/{event_id}/layout", json=layout, headers=INTERNAL)

    def hold(self, event_id: str, user: str, **body: Any) -> httpx.Response:
        return self.http.post(
            f"/api/v1/inventory/events/{event_id}/holds", json=body, headers=self.auth(user)
        )

    def held(self, event_id: str, user: str, **body: Any) -> dict[str, Any]:
        response = self.hold(event_id, user, **body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def availability(self, event_id: str, seats: bool = False) -> dict[str, Any]:
        response = self.http.get(
            f"/api/v1/inventory/events/{event_id}/availability",
            params={"seats": "true"} if seats else {},
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def section(self, event_id: str, section_id: str) -> dict[str, int]:
        for section in self.availability(event_id)["sections"]:
            if section["section_id"] == section_id:
                return section  # type: ignore[no-any-return]
        raise AssertionError(f"no section {section_id}")

    def release(self, hold_id: str, user: str) -> httpx.Response:
        return self.http.delete(f"/api/v1/inventory/holds/{hold_id}", headers=self.auth(user))

    def confirm(self, hold_id: str, booking_id: str) -> httpx.Response:
        return self.http.post(
            f"/internal/holds/{hold_id}/confirm", json={"booking_id": booking_id}, headers=INTERNAL
        )

    def internal(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"/internal{path}", headers=INTERNAL, **kwargs)

    async def all_at_once(
        self, calls: list[tuple[str, str, dict[str, str], Any]]
    ) -> list[tuple[int, Any]]:
        """(method, path, headers, json) each from its own client and connection: every client
        connects first, then all send together. Returns (status, json body) in order."""
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=180)
        async with aiohttp.ClientSession(self.url, connector=connector, timeout=timeout) as session:
            everyone_connected = asyncio.Event()
            connected = 0

            async def client(
                method: str, path: str, headers: dict[str, str], body: Any
            ) -> tuple[int, Any]:
                nonlocal connected
                async with session.get("/health") as warm_up:
                    await warm_up.read()
                connected += 1
                if connected == len(calls):
                    everyone_connected.set()
                await everyone_connected.wait()
                async with session.request(method, path, json=body, headers=headers) as response:
                    raw = await response.read()
                    return response.status, (
                        await response.json(content_type=None)
                    ) if raw else None

            return await asyncio.gather(*(client(*call) for call in calls))

    @staticmethod
    def overlapping_blocks(
        count: int, rng: random.Random, sections: str = "AB", rows: int = 10, per_row: int = 25
    ) -> list[list[str]]:
        """Blocks of 2-4 adjacent seats in a random row; every tenth also takes a seat in another
        section. On a few hundred seats they overlap heavily."""
        wanted = []
        for n in range(count):
            section = rng.choice(sections)
            row, size = rng.randint(1, rows), rng.randint(2, 4)
            start = rng.randint(1, per_row - size + 1)
            seats = [f"{section}-{row}-{number}" for number in range(start, start + size)]
            if n % 10 == 0 and len(sections) > 1:
                other = rng.choice(sections.replace(section, ""))
                seats.append(f"{other}-{row}-{start}")
            wanted.append(seats)
        return wanted

    @staticmethod
    def seats_in(availability: dict[str, Any], status: str) -> set[str]:
        return {seat for seat, state in availability["seats"].items() if state == status}

    def check_seat_counts(self, availability: dict[str, Any]) -> None:
        """Counts add up, and each seated section's counts match its seats' statuses."""
        self.assert_counts_add_up(availability)
        for section in availability["sections"]:
            if section["kind"] != "seated":
                continue
            prefix = f"{section['section_id']}-"
            held = sum(s.startswith(prefix) for s in self.seats_in(availability, "held"))
            sold = sum(s.startswith(prefix) for s in self.seats_in(availability, "sold"))
            assert (section["held"], section["sold"]) == (held, sold), section


class Truth:
    """What events and booking would tell inventory (their internal routes, served by a test
    server): the events on sale with their layouts, and each event's sales. Tests change it."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}  # event_id -> {status, layout}
        self.sales: dict[str, dict[str, Any]] = {}  # event_id -> {sold, holds, unsettled}
        self.delay_s = 0.0  # booking's answers take this long (to watch a rebuild happen)
        self.sales_asked = 0

    def on_sale(self, event_id: str, layout: dict[str, Any], status: str = "open") -> None:
        self.events[event_id] = {"status": status, "layout": layout}

    def sell(self, event_id: str, booking_id: str, seats: list[str]) -> None:
        sale = {"booking_id": booking_id, "seat_ids": seats, "section_id": None, "quantity": 0}
        self.sales_of(event_id)["sold"].append(sale)

    def sales_of(self, event_id: str) -> dict[str, Any]:
        return self.sales.setdefault(event_id, {"sold": [], "holds": [], "unsettled": []})

    def app(self) -> Starlette:
        """Events' and booking's commands, as contracts.py has them."""

        async def events(_: Request) -> dict[str, Any]:
            items = [{"event_id": e, "status": v["status"]} for e, v in sorted(self.events.items())]
            return {"items": items, "next_cursor": None}

        async def layout(request: Request) -> dict[str, Any] | None:
            event_id = request.path_params["event_id"]
            if event_id not in self.events:
                return None
            return {"event_id": event_id, **self.events[event_id]}

        async def sold(request: Request) -> dict[str, Any]:
            self.sales_asked += 1
            await asyncio.sleep(self.delay_s)
            return self.sales_of(request.path_params["event_id"])

        return Starlette(
            routes=peer_routes(
                {
                    contracts.INVENTORY_EVENTS: events,
                    contracts.INVENTORY_LAYOUT: layout,
                    contracts.SALES: sold,
                }
            )
        )


def service_env(redis_url: str, jwks_url: str, **settings: str) -> dict[str, str]:
    truth_url = jwks_url.removesuffix("/jwks")
    return {
        "REDIS_URL": redis_url,
        "JWKS_URL": jwks_url,
        "EVENTS_URL": truth_url,
        "BOOKING_URL": truth_url,
        "SERVICE_TOKEN": SERVICE_TOKEN,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        **settings,
    }


def wait_until_ready(process: ServiceProcess, timeout_s: float = 15) -> None:
    """Until /ready says ready (the healer has listed the events on sale once)."""
    deadline = time.monotonic() + timeout_s
    while httpx.get(f"{process.url}/ready").json().get("status") != "ready":
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{process.name} not ready: {httpx.get(f'{process.url}/ready').text}"
            )
        time.sleep(0.05)
