"""What a simulated customer chooses (seats, searches, which booking to cancel): plain functions
over the API's answers, so the locustfile stays a list of requests and these are unit-tested."""

from __future__ import annotations

import ipaddress
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SEARCH_WORDS = ("final", "derby", "jazz", "night", "symphony", "rock", "live", "cup", "tour")
SEARCH_TYPOS = ("fnal", "drby", "jaz", "symfony", "rok")
CITIES = ("London", "Berlin", "San Francisco")
CANCELLABLE = ("pending_payment", "confirmed")


def require_loopback(url: str) -> str:
    """Load goes to this machine only: 127.0.0.0/8, ::1 or localhost. A staging environment of
    one's own is reachable only by naming its host, on purpose, in LOADTEST_ALLOWED_HOSTS
    (comma-separated); anything else is refused."""
    host = urlsplit(url).hostname or ""
    allowed = {h.strip() for h in os.environ.get("LOADTEST_ALLOWED_HOSTS", "").split(",")}
    if host == "localhost" or (host and host in allowed):
        return url.rstrip("/")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError
    except ValueError:
        raise SystemExit(
            f"refusing to send load to {url!r}: loopback addresses only "
            "(or a host named in LOADTEST_ALLOWED_HOSTS)"
        ) from None
    return url.rstrip("/")


@dataclass(frozen=True)
class SeatChoice:
    """Seats to hold: seat ids in a seated section, or a quantity in a standing one."""

    seat_ids: tuple[str, ...] = ()
    section_id: str | None = None
    quantity: int = 0

    def body(self) -> dict[str, Any]:
        if self.seat_ids:
            return {"seat_ids": list(self.seat_ids)}
        return {"section_id": self.section_id, "quantity": self.quantity}


def pick_seats(
    seatmap: dict[str, Any],
    count: int,
    rng: random.Random,
    *,
    front_rows: int = 0,
    exclude: frozenset[str] = frozenset(),
) -> SeatChoice | None:
    """`count` adjacent available seats in one row of a random section with room, or a standing
    quantity. With `front_rows`, only the first rows of a section are considered, the way a
    crowd at an on-sale goes for the best seats (which makes them contested). `exclude`: seats
    this customer was just refused. None when nothing is left."""
    sections = [s for s in seatmap.get("sections", []) if int(s.get("available", 0)) >= count]
    rng.shuffle(sections)
    for section in sections:
        if section.get("kind") == "standing":
            return SeatChoice(section_id=section["section_id"], quantity=count)
        rows = section.get("rows") or []
        if front_rows:
            rows = rows[:front_rows]
        runs: list[tuple[str, ...]] = []
        for row in rows:
            free = [
                seat["seat_id"]
                for seat in row["seats"]
                if seat["status"] == "available" and seat["seat_id"] not in exclude
            ]
            runs.extend(tuple(free[i : i + count]) for i in range(len(free) - count + 1))
        adjacent = [run for run in runs if _adjacent(run)]
        if adjacent:
            return SeatChoice(seat_ids=rng.choice(adjacent))
    return None


def _adjacent(seat_ids: Sequence[str]) -> bool:
    """Seats `{section}-{row}-{number}` with consecutive numbers in one row."""
    parts = [seat.rsplit("-", 1) for seat in seat_ids]
    if len({row for row, _ in parts}) != 1:
        return False
    numbers = [int(number) for _, number in parts]
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def seats_wanted(rng: random.Random) -> int:
    """Party sizes of ticket buyers: mostly twos."""
    return rng.choices((1, 2, 3, 4), weights=(20, 50, 15, 15))[0]


def search_query(rng: random.Random) -> dict[str, str]:
    """A search as people type them: a word (sometimes misspelt), sometimes a city filter."""
    params = {"q": rng.choice(SEARCH_TYPOS if rng.random() < 0.2 else SEARCH_WORDS)}
    if rng.random() < 0.3:
        params["city"] = rng.choice(CITIES)
    params["limit"] = "20"
    return params


def booking_to_cancel(page: dict[str, Any], rng: random.Random) -> str | None:
    """One of the customer's bookings that can still be cancelled (None if there is none)."""
    candidates = [b["booking_id"] for b in page.get("items", []) if b["status"] in CANCELLABLE]
    return rng.choice(candidates) if candidates else None


def payment_outcome(rng: random.Random, failure_ratio: float = 0.05) -> str:
    """Most cards go through; some are declined (the booking then fails and frees its seats)."""
    return "failed" if rng.random() < failure_ratio else "succeeded"
