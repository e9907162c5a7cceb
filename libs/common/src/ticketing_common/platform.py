"""The public API as one typed client (docs/api.md), over HTTP through the gateway: what the smoke
test, the tests, the demo seed and the scripts that set a stack up call, instead of each writing
its own (the `client` extra).

    platform = Platform("http://127.0.0.1:8000")
    token = platform.login("customer@ticketing.dev", "Customer-demo-2026")
    hold = platform.hold(token, event_id, seat_ids=["A-1-1"])

A method answers what its path answers on success, typed; any other status raises PlatformError
with the problem the API sent (`status`, `problem`), naming what was being done.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, cast

import httpx


class User(TypedDict):
    id: str
    email: str
    name: str
    role: str
    created_at: str


class Venue(TypedDict):
    venue_id: str
    organizer_id: str
    name: str
    capacity: int
    sections: list[dict[str, Any]]


class Event(TypedDict):
    event_id: str
    organizer_id: str
    venue_id: str
    title: str
    status: str
    starts_at: str


class Page(TypedDict):
    items: list[dict[str, Any]]
    next_cursor: str | None


class Hold(TypedDict):
    hold_id: str
    event_id: str
    seat_ids: list[str]
    section_id: str | None
    quantity: int
    expires_at: str
    status: str


class Payment(TypedDict):
    payment_id: str
    provider: str
    client_secret: str


class Booking(TypedDict):
    booking_id: str
    event_id: str
    seat_ids: list[str]
    status: str
    amount_cents: int
    currency: str
    payment: Payment


class Ticket(TypedDict):
    ticket_id: str
    seat_id: str
    secret: str
    qr_svg: str


class TicketKey(TypedDict):
    algorithm: str
    kid: str
    public_key_pem: str


class PlatformError(Exception):
    """An answer other than the one expected: `status`, and the `problem` the API sent."""

    def __init__(self, message: str, status: int, problem: Any) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Platform:
    """JSON over HTTP to one base URL: the gateway, or a service (the same paths). One pooled
    client, safe to share between threads; `patience_s` waits out 429s (Retry-After) first."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 30,
        patience_s: float = 0,
        headers: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.patience_s = patience_s
        self.headers = {"Accept": "application/json", **(headers or {})}
        if token:
            self.headers |= bearer(token)
        self.http = http or httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def with_headers(self, **headers: str) -> Platform:
        """The same client, sending `headers` too."""
        return Platform(
            self.base_url,
            patience_s=self.patience_s,
            headers=self.headers | headers,
            http=self.http,
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        token: str | None = None,
        idempotent: bool = False,
        what: str | None = None,
    ) -> tuple[int, Any]:
        """(status, body) of an answer in `ok`; any other raises PlatformError."""
        headers = dict(self.headers)
        if token:
            headers |= bearer(token)
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        deadline = time.monotonic() + self.patience_s
        while True:
            response = self.http.request(method, path, headers=headers, json=json, params=params)
            if response.status_code != 429 or time.monotonic() >= deadline:
                break
            time.sleep(min(float(response.headers.get("Retry-After") or 1), 5))
        if response.status_code not in ok:
            raise _error(response, what, ok)
        return response.status_code, (response.json() if response.content else None)

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        expect: int = 200,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """The body of the one answer `what` expects."""
        _, body = self.request(
            method,
            path,
            json=json,
            params=params,
            ok=(expect,),
            token=token,
            idempotent=idempotent,
            what=what,
        )
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)[1]

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body)[1]

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a `{items, next_cursor}` listing."""
        cursor = None
        while True:
            page = self.get(path, **params, **({"cursor": cursor} if cursor else {}))
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    # --- the gateway ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.call("GET", "/status", "read the gateway's /status"))

    # --- auth -----------------------------------------------------------------------------

    def register(self, email: str, password: str, name: str) -> User:
        body = {"email": email, "password": password, "name": name}
        return cast(
            User, self.call("POST", "/api/v1/auth/register", "register", expect=201, json=body)
        )

    def login(self, email: str, password: str) -> str:
        body = {"email": email, "password": password}
        tokens = self.call("POST", "/api/v1/auth/login", f"log in as {email}", json=body)
        return str(tokens["access_token"])

    def set_role(
        self, admin_token: str, user_id: str, role: str, organizer_id: str | None = None
    ) -> User:
        body = {"role": role} | ({"organizer_id": organizer_id} if organizer_id else {})
        path = f"/api/v1/auth/users/{user_id}/role"
        user = self.call("PATCH", path, "change the role", token=admin_token, json=body)
        return cast(User, user)

    def new_account(
        self,
        admin_token: str,
        role: str = "customer",
        *,
        name: str = "Test",
        organizer_id: str | None = None,
    ) -> tuple[str, str]:
        """(user id, access token) of a fresh account with `role` (staff: of `organizer_id`):
        registered as a person registers, then given its role by an admin."""
        email, password = f"u-{uuid.uuid4().hex[:10]}@example.com", "Correct-horse-9"
        user_id = self.register(email, password, name)["id"]
        if role != "customer":
            self.set_role(admin_token, user_id, role, organizer_id)
        return user_id, self.login(email, password)

    def me(self, token: str) -> User:
        return cast(User, self.call("GET", "/api/v1/auth/me", "read /me", token=token))

    # --- venues and events ----------------------------------------------------------------

    def create_venue(self, token: str, venue: dict[str, Any]) -> Venue:
        return cast(
            Venue,
            self.call(
                "POST", "/api/v1/venues", "create a venue", expect=201, token=token, json=venue
            ),
        )

    def create_event(self, token: str, event: dict[str, Any]) -> Event:
        return cast(
            Event,
            self.call(
                "POST", "/api/v1/events", "create an event", expect=201, token=token, json=event
            ),
        )

    def publish(self, token: str, event_id: str) -> Event:
        path = f"/api/v1/events/{event_id}/publish"
        return cast(Event, self.call("POST", path, "publish the event", token=token))

    def events(self, **params: str | int) -> Page:
        return cast(Page, self.call("GET", "/api/v1/events", "list events", params=params))

    def search(self, q: str) -> Page:
        return cast(Page, self.call("GET", "/api/v1/search/events", "search", params={"q": q}))

    # --- holds, bookings, payments --------------------------------------------------------

    def hold(
        self,
        token: str,
        event_id: str,
        *,
        seat_ids: list[str] | None = None,
        section_id: str | None = None,
        quantity: int | None = None,
    ) -> Hold:
        body: dict[str, Any] = (
            {"seat_ids": seat_ids} if seat_ids else {"section_id": section_id, "quantity": quantity}
        )
        path = f"/api/v1/inventory/events/{event_id}/holds"
        hold = self.call(
            "POST", path, "hold seats", expect=201, token=token, json=body, idempotent=True
        )
        return cast(Hold, hold)

    def book(self, token: str, hold_id: str) -> Booking:
        booking = self.call(
            "POST",
            "/api/v1/bookings",
            "book the hold",
            expect=201,
            token=token,
            json={"hold_id": hold_id},
            idempotent=True,
        )
        return cast(Booking, booking)

    def booking(self, token: str, booking_id: str) -> Booking:
        path = f"/api/v1/bookings/{booking_id}"
        return cast(Booking, self.call("GET", path, "read the booking", token=token))

    def tickets(self, token: str, booking_id: str) -> list[Ticket]:
        path = f"/api/v1/bookings/{booking_id}/tickets"
        return cast(list[Ticket], self.call("GET", path, "read the tickets", token=token))

    def ticket_key(self) -> TicketKey:
        path = "/api/v1/bookings/tickets/public-key"
        return cast(TicketKey, self.call("GET", path, "read the ticket public key"))

    def simulate_payment(self, token: str, payment_id: str, outcome: str = "succeeded") -> None:
        path = f"/api/v1/payments/{payment_id}/simulate"
        body = {"outcome": outcome}
        self.call("POST", path, "simulate the payment", expect=202, token=token, json=body)

    def notifications(self, token: str) -> list[dict[str, Any]]:
        log = self.call("GET", "/api/v1/notifications", "read the notification log", token=token)
        return cast(list[dict[str, Any]], log["items"] if isinstance(log, dict) else log)


def event_body(
    venue_id: str,
    title: str,
    *,
    prices: Mapping[str, int],
    currency: str,
    section_tiers: Mapping[str, str],
    description: str = "",
    category: str = "concert",
    hours: int = 3,
) -> dict[str, Any]:
    """An event to create (`POST /api/v1/events`) on `venue_id`: 30 days from now, `hours` long,
    each tier at its price in cents of `currency`, each section of the venue at its tier."""
    starts = datetime.now(UTC) + timedelta(days=30)
    return {
        "venue_id": venue_id,
        "title": title,
        "description": description,
        "category": category,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        "price_tiers": [
            {"tier": tier, "price_cents": cents, "currency": currency}
            for tier, cents in prices.items()
        ],
        "section_tiers": dict(section_tiers),
    }


def _error(response: httpx.Response, what: str | None, ok: tuple[int, ...]) -> PlatformError:
    try:
        problem: Any = response.json()
    except ValueError:
        problem = response.text[:500]
    request = response.request
    if what:
        message = (
            f"{what}: expected {' or '.join(map(str, ok))}, got {response.status_code} from "
            f"{request.method} {request.url.path}: {response.text[:500]}"
        )
    else:
        message = f"{request.method} {request.url} answered {response.status_code}: "
        message += response.text[:300]
    return PlatformError(message, response.status_code, problem)
