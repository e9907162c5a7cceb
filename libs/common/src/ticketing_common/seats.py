"""Seat order, shared by the two services that must agree on it: inventory keeps one bit per seat
of an event (sold, held) with seat i at bit i in this order, and events draws the layout whose
seats carry that bit index, so a client lays inventory's availability bits over the layout.

The order is the seat ids' natural order (digit runs compare as numbers, so A-2-10 comes after
A-2-9), whatever order the venue lists its sections and rows in. Standing sections have no
seats and no bits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = re.compile(r"(\d+)")


def section_of_seat(seat_id: str) -> str:
    """Seat ids are `{section_id}-{row}-{number}` and section ids never contain '-' (events'
    schema refuses it)."""
    return seat_id.split("-", 1)[0]


def natural_key(text: str) -> tuple[tuple[int, str], ...]:
    """Sort key: A-2-10 after A-2-9 (digit runs compare as numbers)."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in _NUMBER.split(text))


def bit_indexes(seat_ids: Iterable[str]) -> dict[str, int]:
    """Each seat's bit index among `seat_ids` (every seated seat of one event)."""
    return {seat_id: index for index, seat_id in enumerate(sorted(seat_ids, key=natural_key))}
