"""An event's layout, checked and put in canonical order: the order gives every seat its bit index
and every section its number, and the canonical form's hash tells layouts apart."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from ticketing_common.contracts import BookedHold, LayoutIn, SoldIn
from ticketing_common.problems import Problem, ProblemType
from ticketing_common.seats import natural_key

from ticketing_inventory.ids import section_of_seat

MAX_SECTIONS = 1024  # the Lua scripts pack a section number into 10 bits


@dataclass(frozen=True, slots=True)
class Section:
    section_id: str
    kind: str  # "seated" | "standing"
    capacity: int


@dataclass(frozen=True, slots=True)
class PreparedLayout:
    digest: str
    sections: tuple[Section, ...]  # by section number
    seat_ids: tuple[str, ...]  # by seat bit index
    section_numbers: dict[str, int]

    @property
    def capacity(self) -> int:
        return sum(section.capacity for section in self.sections)

    def packed(self, index: int) -> int:
        """What the Lua scripts store for a seat: bit index * 1024 + section number."""
        return index * MAX_SECTIONS + self.section_numbers[section_of_seat(self.seat_ids[index])]

    def sections_json(self) -> bytes:
        return orjson.dumps([[s.section_id, s.kind, s.capacity] for s in self.sections])


def _invalid(detail: str, **extensions: Any) -> Problem:
    return Problem(
        422, detail, slug=ProblemType.INVALID_LAYOUT, title="Invalid layout", **extensions
    )


def prepare_layout(layout: LayoutIn) -> PreparedLayout:
    # Bit order is ticketing_common.seats' natural order: events' layout documents it.
    seats = sorted(layout.seats, key=lambda seat: natural_key(seat.seat_id))
    standing = sorted(layout.standing, key=lambda section: natural_key(section.section_id))
    if not seats and not standing:
        raise _invalid("A layout needs seats or standing sections")

    seated_capacity: dict[str, int] = {}
    seen: set[str] = set()
    for seat in seats:
        if seat.seat_id in seen:
            raise _invalid(f"Seat {seat.seat_id!r} is listed twice")
        seen.add(seat.seat_id)
        parts = seat.seat_id.split("-")
        if len(parts) != 3 or parts[0] != seat.section_id or not all(parts):
            raise _invalid(
                f"Seat id {seat.seat_id!r} is not '{seat.section_id}-<row>-<number>'",
            )
        seated_capacity[seat.section_id] = seated_capacity.get(seat.section_id, 0) + 1
    standing_ids = [section.section_id for section in standing]
    if len(set(standing_ids)) != len(standing_ids):
        raise _invalid("A standing section is listed twice")
    if both := set(standing_ids) & set(seated_capacity):
        raise _invalid(f"Sections {sorted(both)} are both seated and standing")

    sections = [Section(sid, "seated", n) for sid, n in seated_capacity.items()]
    sections += [Section(s.section_id, "standing", s.capacity) for s in standing]
    sections.sort(key=lambda section: natural_key(section.section_id))
    if len(sections) > MAX_SECTIONS:
        raise _invalid(f"A layout has at most {MAX_SECTIONS} sections")

    canonical = orjson.dumps(
        {
            "seats": [[s.seat_id, s.section_id, s.price_tier] for s in seats],
            "standing": [[s.section_id, s.capacity, s.price_tier] for s in standing],
        }
    )
    return PreparedLayout(
        digest=hashlib.sha256(canonical).hexdigest()[:32],
        sections=tuple(sections),
        seat_ids=tuple(seat.seat_id for seat in seats),
        section_numbers={section.section_id: n for n, section in enumerate(sections)},
    )


def prepare_sold(layout: PreparedLayout, sold: list[SoldIn]) -> list[list[object]]:
    """The sold list of a rebuild as the Lua script takes it: [booking, [packed seat...], section
    number or -1, quantity]. Refuses seats or sections the layout lacks, a seat sold twice, and
    more standing places than a section holds."""
    index_of = {seat_id: index for index, seat_id in enumerate(layout.seat_ids)}
    owner: dict[str, str] = {}
    standing_sold: dict[str, int] = {}
    entries: list[list[object]] = []
    for sale in sold:
        if unknown := [seat for seat in sale.seat_ids if seat not in index_of]:
            raise _invalid(
                f"Booking {sale.booking_id!r} names seats the layout lacks", unknown=unknown
            )
        for seat in sale.seat_ids:
            if owner.setdefault(seat, sale.booking_id) != sale.booking_id:
                raise Problem(
                    409,
                    f"Seat {seat!r} is sold to both {owner[seat]!r} and {sale.booking_id!r}",
                    slug=ProblemType.SOLD_TWICE,
                    seat_id=seat,
                )
        section_no = -1
        if sale.section_id is not None:
            section_no = layout.section_numbers.get(sale.section_id, -1)
            if section_no < 0 or layout.sections[section_no].kind != "standing":
                raise _invalid(f"{sale.section_id!r} is not a standing section of the layout")
            standing_sold[sale.section_id] = standing_sold.get(sale.section_id, 0) + sale.quantity
            if standing_sold[sale.section_id] > layout.sections[section_no].capacity:
                raise Problem(
                    409,
                    f"More places of {sale.section_id!r} are sold than it holds",
                    slug=ProblemType.OVERSOLD,
                    section_id=sale.section_id,
                )
        seats = [layout.packed(index_of[seat]) for seat in sale.seat_ids]
        entries.append(
            [sale.booking_id, seats, section_no, sale.quantity if section_no >= 0 else 0]
        )
    return entries


def prepare_holds(layout: PreparedLayout, holds: list[BookedHold]) -> list[list[object]]:
    """The holds a rebuild restores, as the Lua script takes them: [hold_id, user, [packed
    seat...], section number or -1, quantity, expires ms, seat ids JSON, section id or '']. A hold
    naming seats or a section the layout lacks is left out (its confirm re-claims, or fails)."""
    index_of = {seat_id: index for index, seat_id in enumerate(layout.seat_ids)}
    entries: list[list[object]] = []
    for hold in holds:
        if any(seat not in index_of for seat in hold.seat_ids):
            continue
        section_no = -1
        if hold.section_id is not None:
            section_no = layout.section_numbers.get(hold.section_id, -1)
            if section_no < 0 or layout.sections[section_no].kind != "standing":
                continue
        elif not hold.seat_ids:
            continue
        entries.append(
            [
                hold.hold_id,
                hold.user_id,
                [layout.packed(index_of[seat]) for seat in hold.seat_ids],
                section_no,
                hold.quantity if section_no >= 0 else len(hold.seat_ids),
                int(hold.expires_at.timestamp() * 1000),
                orjson.dumps(hold.seat_ids).decode(),
                hold.section_id or "",
            ]
        )
    return entries
