"""The public API as one typed client (docs/api.md), over HTTP through the gateway: what the smoke
test, the tests and the scripts that set a stack up call, instead of each writing its own.

    platform = Platform("http://127.0.0.1:8000")
    token = platform.login("customer@ticketing.dev", "Customer-demo-2026")
    hold = platform.hold(token, event_id, seat_ids=["A-1-1"])

A method answers what its path answers on success, typed; any other status raises PlatformError
with the problem the API sent (`status`, `problem`), naming what was being done.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
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
    def __init__(self, gateway: str, *, timeout_s: float = 30) -> None:
        self.http = httpx.Client(base_url=gateway.rstrip("/"), timeout=timeout_s)

    @property
    def base_url(self) -> str:
        return str(self.http.base_url)

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        expect: int = 200,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """One request; the body of the expected answer, else PlatformError."""
        headers = bearer(token) if token else {}
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        response = self.http.request(method, path, headers=headers, json=json, params=params)
        if response.status_code != expect:
            try:
                problem: Any = response.json()
            except ValueError:
                problem = response.text[:500]
            message = (
                f"{what}: expected {expect}, got {response.status_code} from "
                f"{method} {response.request.url.path}: {response.text[:500]}"
            )
            raise PlatformError(message, response.status_code, problem)
        return response.json() if response.content else None

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
