"""`make smoke`: one booking end to end against a running stack (`make dev` or
`docker compose up`), through the gateway, as a new user would, step by step:

register, sign in, the demo accounts sign in and the demo events are listed, the demo organizer
creates a venue and an event and publishes it, search finds it, the user holds two seats, books
them, pays (the local payment simulator), sees the booking confirmed with tickets that verify
against the ticket public key, and finds the email with them in the mail catcher (the devkit's
or Mailpit: both HTTP APIs are understood).

    python -m ticketing_devkit.smoke [--gateway URL] [--mail URL] [--timeout S]

Exit status 0 when every step passed, 1 at the first that did not (it says what it got).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_common.platform import Booking, Platform, PlatformError

from ticketing_devkit.stack import DEMO_ACCOUNTS, MAIL_WEB_PORT

# The seed's published events (the README's "12 published events"); later smoke runs add more.
DEMO_PUBLISHED_EVENTS = 12

T = TypeVar("T")


class SmokeFailed(Exception):
    pass


def poll(check: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """`check()` until it returns something, or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise SmokeFailed(f"{what} within {timeout_s:.0f} s")
        time.sleep(0.25)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_ticket(secret: str, public_key_pem: str) -> dict[str, Any]:
    """What a scanner at the door does: the signature must hold; then the claims are read."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SmokeFailed("the ticket public key is not an Ed25519 key")
    payload, _, signature = secret.partition(".")
    try:
        key.verify(_unb64(signature), _unb64(payload))
    except (InvalidSignature, ValueError) as exc:
        raise SmokeFailed(f"ticket secret {secret[:24]}... does not verify") from exc
    claims: dict[str, Any] = json.loads(_unb64(payload))
    return claims


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    images: int  # inline and attached images (the tickets' QR codes)


class MailCatcher:
    """Reads caught mail from Mailpit (`/api/v1/...`, docker compose) or the devkit's catcher
    (`/api/...`, make dev)."""

    def __init__(self, client: httpx.Client, base_url: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self._mailpit: bool | None = None

    def _is_mailpit(self) -> bool:
        if self._mailpit is None:
            answer = self.client.get(f"{self.base_url}/api/v1/messages")
            self._mailpit = answer.status_code == 200 and "messages" in answer.json()
        return self._mailpit

    def find(self, recipient: str, subject_part: str) -> Mail | None:
        if self._is_mailpit():
            listing = self.client.get(f"{self.base_url}/api/v1/messages").json()["messages"]
            for summary in listing:
                to = {address["Address"].lower() for address in summary.get("To") or []}
                if recipient.lower() in to and subject_part in summary["Subject"]:
                    message = self.client.get(f"{self.base_url}/api/v1/message/{summary['ID']}")
                    body = message.json()
                    images = [
                        part
                        for part in (body.get("Inline") or []) + (body.get("Attachments") or [])
                        if part.get("ContentType", "").startswith("image/")
                    ]
                    return Mail(body["Subject"], body.get("Text") or "", len(images))
            return None
        listing = self.client.get(f"{self.base_url}/api/messages").json()
        for summary in listing:
            to = {address.lower() for address in summary["rcpt_tos"]}
            if recipient.lower() in to and subject_part in summary["subject"]:
                body = self.client.get(f"{self.base_url}/api/messages/{summary['id']}").json()
                images = [p for p in body["parts"] if p["content_type"].startswith("image/")]
                return Mail(body["subject"], body.get("text") or "", len(images))
        return None


class Smoke:
    def __init__(self, gateway: str, mail: str, timeout_s: float) -> None:
        self.api = Platform(gateway)
        self.mail = MailCatcher(httpx.Client(timeout=10), mail)
        self.timeout_s = timeout_s
        self.run_id = uuid.uuid4().hex[:8]
        self.step_number = 0
        self.email = f"smoke-{self.run_id}@ticketing.dev"
        self.password = f"Smoke-{self.run_id}-pass"
        self.title = f"Smoke test {self.run_id}"
        self.state: dict[str, Any] = {}

    def step(self, title: str, action: Callable[[], str]) -> None:
        self.step_number += 1
        print(f"[{self.step_number:>2}] {title} ...", end=" ", flush=True)
        started = time.monotonic()
        try:
            detail = action()
        except SmokeFailed:
            print("FAILED", flush=True)
            raise
        except PlatformError as exc:
            print("FAILED", flush=True)
            raise SmokeFailed(str(exc)) from exc
        except httpx.HTTPError as exc:
            print("FAILED", flush=True)
            raise SmokeFailed(f"{type(exc).__name__}: {exc}") from exc
        print(f"ok ({(time.monotonic() - started) * 1000:.0f} ms) {detail}", flush=True)

    def run(self) -> None:
        self.step("the stack is up (gateway /status)", self.stack_is_up)
        self.step("register a new user", self.register)
        self.step("log in as that user", self.log_in)
        self.step("the demo accounts sign in, the demo events are listed", self.demo_data)
        self.step("organizer creates a venue", self.create_venue)
        self.step("organizer creates an event", self.create_event)
        self.step("organizer publishes it", self.publish)
        self.step("search finds it", self.search)
        self.step("user holds two seats", self.hold)
        self.step("user books the hold", self.book)
        self.step("user pays (simulated)", self.pay)
        self.step("the booking is confirmed", self.confirmed)
        self.step("tickets verify against the public key", self.tickets)
        self.step("the email with the tickets arrived", self.mail_arrived)

    def stack_is_up(self) -> str:
        def operational() -> dict[str, Any] | None:
            try:
                status = self.api.status()
            except PlatformError:
                return None
            return status if status.get("status") == "operational" else None

        try:
            status = poll(operational, self.timeout_s, "the gateway's /status said operational")
        except httpx.TransportError as exc:
            raise SmokeFailed(
                f"nothing answers at {self.api.base_url} ({exc}): start the stack with "
                "`make dev` or `docker compose up`"
            ) from exc
        return f"{len(status['upstreams'])} upstreams ready"

    def register(self) -> str:
        user = self.api.register(self.email, self.password, "Smoke Tester")
        self.state["user_id"] = user["id"]
        return f"{self.email} ({user['role']})"

    def log_in(self) -> str:
        self.state["token"] = self.api.login(self.email, self.password)
        me = self.api.me(self.state["token"])
        if me["id"] != self.state["user_id"]:
            raise SmokeFailed(f"/me is {me['id']}, not the registered {self.state['user_id']}")
        return "token accepted by /me"

    def demo_data(self) -> str:
        # The README's demo accounts, each with its role, and the seed's published events: what
        # `make dev` and `docker compose up` both promise.
        ids = {}
        for role, (account, account_password) in DEMO_ACCOUNTS.items():
            token = self.api.login(account, account_password)
            me = self.api.me(token)
            if me["role"] != role:
                raise SmokeFailed(f"the demo account {account} is a {me['role']}, not {role}")
            ids[role] = me["id"]
            if role == "organizer":
                self.state["organizer"] = token
        published = self._published_by(ids["organizer"])
        if published < DEMO_PUBLISHED_EVENTS:
            raise SmokeFailed(
                f"the demo organizer has {published} published events listed, not the "
                f"seed's {DEMO_PUBLISHED_EVENTS}: is the demo data loaded?"
            )
        return f"{', '.join(DEMO_ACCOUNTS)} with their roles; {published} demo events on sale"

    def _published_by(self, organizer_id: str) -> int:
        published = 0
        params: dict[str, str | int] = {"limit": 100}
        while published < DEMO_PUBLISHED_EVENTS:
            page = self.api.events(**params)
            published += sum(e["organizer_id"] == organizer_id for e in page["items"])
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        return published

    def create_venue(self) -> str:
        venue = self.api.create_venue(
            self.state["organizer"],
            {
                "name": f"Smoke Hall {self.run_id}",
                "city": "Lisbon",
                "country": "PT",
                "address": "Rua do Teste 1, Lisboa",
                "timezone": "Europe/Lisbon",
                "sections": [
                    {
                        "section_id": "STALLS",
                        "name": "Stalls",
                        "kind": "seated",
                        "rows": [{"label": "A", "seats": 10}, {"label": "B", "seats": 10}],
                    }
                ],
            },
        )
        self.state["venue_id"] = venue["venue_id"]
        return f"{venue['venue_id']} ({venue['capacity']} seats)"

    def create_event(self) -> str:
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        event = self.api.create_event(
            self.state["organizer"],
            {
                "venue_id": self.state["venue_id"],
                "title": self.title,
                "description": "An event the smoke test books.",
                "category": "concert",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "price_tiers": [{"tier": "standard", "price_cents": 2500, "currency": "EUR"}],
                "section_tiers": {"STALLS": "standard"},
            },
        )
        self.state["event_id"] = event["event_id"]
        return f"{event['event_id']} ({event['status']})"

    def publish(self) -> str:
        event = self.api.publish(self.state["organizer"], self.state["event_id"])
        if event["status"] != "on_sale":
            raise SmokeFailed(f"published event is {event['status']}, not on_sale")
        return "on_sale"

    def search(self) -> str:
        def found() -> dict[str, Any] | None:
            page = self.api.search(self.title)
            return next((i for i in page["items"] if i["event_id"] == self.state["event_id"]), None)

        item = poll(found, self.timeout_s, f"search did not find {self.title!r}")
        price = f"{item['min_price_cents']} {item['currency']}"
        return f"{item['title']!r} at {item['venue_name']}, from {price}"

    def hold(self) -> str:
        self.state["seats"] = ["STALLS-A-1", "STALLS-A-2"]
        held = self.api.hold(
            self.state["token"], self.state["event_id"], seat_ids=self.state["seats"]
        )
        self.state["hold_id"] = held["hold_id"]
        return f"{', '.join(held['seat_ids'])} until {held['expires_at']}"

    def book(self) -> str:
        booking = self.api.book(self.state["token"], self.state["hold_id"])
        if booking["status"] != "pending_payment":
            raise SmokeFailed(f"a new booking is {booking['status']}, not pending_payment")
        self.state["booking_id"] = booking["booking_id"]
        self.state["payment_id"] = booking["payment"]["payment_id"]
        return f"{booking['booking_id']}: {booking['amount_cents']} {booking['currency']} to pay"

    def pay(self) -> str:
        self.api.simulate_payment(self.state["token"], self.state["payment_id"])
        return f"payment {self.state['payment_id']} succeeded (local simulator)"

    def confirmed(self) -> str:
        def status() -> Booking | None:
            booking = self.api.booking(self.state["token"], self.state["booking_id"])
            if booking["status"] in ("failed", "refunded", "cancelled", "expired"):
                raise SmokeFailed(f"the booking ended {booking['status']}")
            return booking if booking["status"] == "confirmed" else None

        poll(status, self.timeout_s, "the booking was not confirmed")
        return "confirmed"

    def tickets(self) -> str:
        issued = self.api.tickets(self.state["token"], self.state["booking_id"])
        key = self.api.ticket_key()
        seats = set()
        for ticket in issued:
            claims = verify_ticket(ticket["secret"], key["public_key_pem"])
            if claims["bid"] != self.state["booking_id"] or claims["eid"] != self.state["event_id"]:
                raise SmokeFailed(f"ticket {ticket['ticket_id']} is for another booking")
            if claims["seat"] != ticket["seat_id"] or not ticket["qr_svg"].startswith("<svg"):
                raise SmokeFailed(f"ticket {ticket['ticket_id']} does not match its seat/QR")
            seats.add(ticket["seat_id"])
        if seats != set(self.state["seats"]):
            raise SmokeFailed(f"tickets for {sorted(seats)}, booked {self.state['seats']}")
        self.state["ticket_ids"] = [ticket["ticket_id"] for ticket in issued]
        return f"{len(issued)} tickets, signatures verified (key {key['kid']})"

    def mail_arrived(self) -> str:
        mail = poll(
            lambda: self.mail.find(self.email, self.title),
            self.timeout_s,
            f"no email to {self.email} about {self.title!r} in the mail catcher",
        )
        missing = [t for t in self.state["ticket_ids"] if t not in mail.text]
        if missing or mail.images < len(self.state["ticket_ids"]):
            raise SmokeFailed(
                f"the email lacks tickets {missing} or their QR codes ({mail.images} images)"
            )
        items = self.api.notifications(self.state["token"])
        if not any(item.get("booking_id") == self.state["booking_id"] for item in items):
            raise SmokeFailed("the notification log does not list the email")
        return f"{mail.subject!r} with {mail.images} QR codes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--mail", default=f"http://127.0.0.1:{MAIL_WEB_PORT}")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for each step")
    args = parser.parse_args(argv)
    print(f"smoke test against {args.gateway} (mail: {args.mail})", flush=True)
    started = time.monotonic()
    smoke = Smoke(args.gateway, args.mail, args.timeout)
    try:
        smoke.run()
    except SmokeFailed as failure:
        print(f"smoke: FAILED at step {smoke.step_number}: {failure}", flush=True)
        return 1
    print(
        f"smoke: passed ({smoke.step_number} steps in {time.monotonic() - started:.1f} s)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
