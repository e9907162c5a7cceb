"""After a load run: did the platform stay correct? Read-only, through the services' APIs.

For every event checked:
- no seat sold twice: no seat in two confirmed bookings (booking's durable seat claims, from
  `GET /internal/events/{id}/sold`), and inventory's sold seats are exactly the seats of
  confirmed bookings (a seat sold without a booking, or booked without being sold, is an error);
- counts add up: per section capacity = available + held + sold, none negative, inventory's sold
  count equals what confirmed bookings hold (seats, or places of a standing section);
- money: every payment that succeeded belongs to a confirmed booking, every confirmed booking's
  payment succeeded, every refunded booking's payment was refunded, amounts agree.

The platform converges asynchronously (a payment's webhook → a fact → booking confirms), so
the check reads everything again until it is clean or `settle_s` has passed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ticketing_common.platform import Platform

from ticketing_loadtest.api import DEV_SERVICE_TOKEN, api

MONEY_BACK = frozenset({"refunded", "failed", "cancelled", "expired"})


@dataclass(frozen=True)
class EventState:
    event_id: str
    sections: list[dict[str, Any]]  # inventory: {section_id, capacity, available, held, sold}
    seats: Mapping[str, str]  # inventory: seat_id -> available | held | sold
    sold: list[dict[str, Any]]  # booking's durable claims: {booking_id, seat_ids, section_id, ...}
    bookings: list[dict[str, Any]]  # every booking of the event (public form)
    payments: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # payment_id -> payment


@dataclass(frozen=True)
class Violation:
    event_id: str
    kind: str
    detail: str


def check_seats(state: EventState) -> list[Violation]:
    found: list[Violation] = []
    owners: dict[str, list[str]] = {}
    for entry in state.sold:
        for seat in entry["seat_ids"]:
            owners.setdefault(seat, []).append(entry["booking_id"])
    for seat, bookings in sorted(owners.items()):
        if len(bookings) > 1:
            found.append(
                Violation(state.event_id, "seat-sold-twice", f"{seat}: {', '.join(bookings)}")
            )
    sold_in_inventory = {seat for seat, status in state.seats.items() if status == "sold"}
    for seat in sorted(sold_in_inventory - set(owners)):
        found.append(
            Violation(state.event_id, "sold-without-booking", f"{seat} is sold in inventory")
        )
    for seat in sorted(set(owners) - sold_in_inventory):
        found.append(
            Violation(
                state.event_id,
                "booked-not-sold",
                f"{seat} belongs to confirmed {owners[seat][0]} but inventory says "
                f"{state.seats.get(seat, 'nothing')}",
            )
        )
    return found


def check_counts(state: EventState) -> list[Violation]:
    found: list[Violation] = []
    booked: Counter[str] = Counter()
    for entry in state.sold:
        if entry["seat_ids"]:
            for seat in entry["seat_ids"]:
                booked[seat.split("-")[0]] += 1
        elif entry.get("section_id"):
            booked[entry["section_id"]] += int(entry["quantity"])
    tallies: dict[str, Counter[str]] = {}
    for seat, status in state.seats.items():
        tallies.setdefault(seat.split("-")[0], Counter())[status] += 1
    for section in state.sections:
        sid = section["section_id"]
        capacity, available = int(section["capacity"]), int(section["available"])
        held, sold = int(section["held"]), int(section["sold"])
        if min(available, held, sold) < 0 or available + held + sold != capacity:
            found.append(
                Violation(
                    state.event_id,
                    "counts-dont-add-up",
                    f"{sid}: capacity {capacity} != available {available} + held {held} "
                    f"+ sold {sold}",
                )
            )
        tally = tallies.get(sid)
        if tally is not None and (tally["available"], tally["held"], tally["sold"]) != (
            available,
            held,
            sold,
        ):
            found.append(
                Violation(
                    state.event_id,
                    "seat-statuses-disagree",
                    f"{sid}: seats say available {tally['available']} held {tally['held']} sold "
                    f"{tally['sold']}, the section says {available}/{held}/{sold}",
                )
            )
        if sold != booked.get(sid, 0):
            found.append(
                Violation(
                    state.event_id,
                    "sold-count-mismatch",
                    f"{sid}: inventory sold {sold}, confirmed bookings hold {booked.get(sid, 0)}",
                )
            )
    return found


def check_money(state: EventState) -> list[Violation]:
    found: list[Violation] = []

    def violation(kind: str, booking: dict[str, Any], detail: str) -> None:
        found.append(Violation(state.event_id, kind, f"booking {booking['booking_id']}: {detail}"))

    for booking in state.bookings:
        status = booking["status"]
        reference = booking.get("payment")
        if reference is None:
            if status == "confirmed":
                violation("confirmed-without-payment", booking, "confirmed with no payment")
            continue
        payment = state.payments.get(reference["payment_id"])
        if payment is None:
            violation("payment-missing", booking, f"payment {reference['payment_id']} not found")
            continue
        paid = payment["status"]
        if payment["booking_id"] != booking["booking_id"]:
            violation(
                "payment-of-other-booking", booking, f"payment is for {payment['booking_id']}"
            )
        if int(payment["amount_cents"]) != int(booking["amount_cents"]):
            violation(
                "amount-mismatch",
                booking,
                f"booking {booking['amount_cents']}, payment {payment['amount_cents']}",
            )
        if paid == "succeeded" and status != "confirmed":
            violation("paid-not-confirmed", booking, f"payment succeeded, booking is {status}")
        if status == "confirmed" and paid != "succeeded":
            violation("confirmed-not-paid", booking, f"booking confirmed, payment is {paid}")
        if status == "refunded" and paid != "refunded":
            violation("refund-missing", booking, f"booking refunded, payment is {paid}")
        if paid == "refunded" and status not in MONEY_BACK:
            violation("refunded-but-kept", booking, f"payment refunded, booking is {status}")
    return found


def check_event(state: EventState) -> list[Violation]:
    return check_seats(state) + check_counts(state) + check_money(state)


def summary(state: EventState) -> str:
    capacity = sum(int(s["capacity"]) for s in state.sections)
    counts = {k: sum(int(s[k]) for s in state.sections) for k in ("available", "held", "sold")}
    statuses = Counter(b["status"] for b in state.bookings)
    paid = Counter(p["status"] for p in state.payments.values())
    return (
        f"{state.event_id}: capacity {capacity:,} = available {counts['available']:,} + held "
        f"{counts['held']:,} + sold {counts['sold']:,}; bookings {dict(sorted(statuses.items()))}; "
        f"payments {dict(sorted(paid.items()))}"
    )


# --- reading the platform ---------------------------------------------------------------------


@dataclass(frozen=True)
class Services:
    """Where the check reads: the services themselves (not the gateway, whose per-user rate
    limits would throttle one admin reading thousands of payments)."""

    inventory: Platform
    booking_internal: Platform
    booking: Platform
    payment: Platform


def connect(
    admin_token: str,
    *,
    inventory_url: str = "http://127.0.0.1:8003",
    booking_url: str = "http://127.0.0.1:8004",
    payment_url: str = "http://127.0.0.1:8005",
    service_token: str = DEV_SERVICE_TOKEN,
) -> Services:
    return Services(
        inventory=api(inventory_url),
        booking_internal=api(booking_url).with_headers(**{"X-Service-Token": service_token}),
        booking=api(booking_url, token=admin_token),
        payment=api(payment_url, token=admin_token),
    )


def read_event(services: Services, event_id: str, pool: ThreadPoolExecutor) -> EventState:
    availability = services.inventory.get(
        f"/api/v1/inventory/events/{event_id}/availability", seats="true"
    )
    sold = services.booking_internal.get(f"/internal/events/{event_id}/sold")["sold"]
    bookings = list(services.booking.pages("/api/v1/bookings", event_id=event_id, limit=100))
    payment_ids = [b["payment"]["payment_id"] for b in bookings if b.get("payment")]
    payments = pool.map(lambda pid: services.payment.get(f"/api/v1/payments/{pid}"), payment_ids)
    return EventState(
        event_id=event_id,
        sections=availability["sections"],
        seats=availability.get("seats") or {},
        sold=sold,
        bookings=bookings,
        payments={p["payment_id"]: p for p in payments},
    )


def run_check(
    read: Callable[[str], EventState],
    event_ids: Iterable[str],
    *,
    settle_s: float = 30.0,
    interval_s: float = 2.0,
    say: Callable[[str], None] = print,
) -> list[Violation]:
    """Checks every event; while anything is wrong, reads again until `settle_s` has passed
    (in-flight payments and confirmations settle). Returns what is still wrong."""
    events = list(dict.fromkeys(event_ids))
    deadline = time.monotonic() + settle_s
    while True:
        states = [read(event_id) for event_id in events]
        violations = [v for state in states for v in check_event(state)]
        if not violations or time.monotonic() >= deadline:
            break
        say(f"check: {len(violations)} findings, reading again in {interval_s:.0f} s (settling)")
        time.sleep(interval_s)
    for state in states:
        say(summary(state))
    return violations
