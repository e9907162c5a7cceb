"""The seat map in two parts, and the contract's seat map built from them.

- **The layout** (`GET /api/v1/events/{id}/layout`): sections → rows → seats with their price
  tiers and prices. It is immutable once the event is published (venues never change, published
  events cannot be edited), so it is rendered once per layout version and served with a strong
  ETag. Each seat carries `bit`, its index in inventory's availability bitmaps
  (ticketing_common.seats' order).
- **The live states**: inventory's availability bits (`GET /api/v1/inventory/events/{id}/
  availability/bits`): per-section counts and two bitmaps, a few hundred bytes per 1,000 seats,
  one Redis round trip.
- **The contract's seat map** (`GET /api/v1/events/{id}/seatmap`, every seat with its status):
  the layout's JSON is cut once into the fragments between the values that change (event status,
  section counts, seat states); a request decodes the bitmaps eight seats at a time and joins the
  fragments with the states, so no per-seat object is built per request.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import sys
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from itertools import chain
from typing import Any

import orjson
from ticketing_common.contracts import AvailabilityBits, SectionAvailability
from ticketing_common.errors import PeerUnavailable
from ticketing_common.seats import bit_indexes

from ticketing_events.venues import capacity_of, seat_ids

AVAILABLE, HELD, SOLD = b'"available"', b'"held"', b'"sold"'
_MASKS = tuple(0x80 >> n for n in range(8))
MEMO_PER_OCTET = 8  # renderings kept per eight seats (3^8 states are possible, a few are common)


class _Octets(dict[int, tuple[bytes, ...]]):
    """(sold byte << 8 | held byte) → the states of those eight seats, computed on first use."""

    def __missing__(self, key: int) -> tuple[bytes, ...]:
        sold, held = key >> 8, key & 0xFF
        states = tuple(
            SOLD if sold & mask else HELD if held & mask else AVAILABLE for mask in _MASKS
        )
        self[key] = states
        return states


_OCTETS = _Octets()


def layout_version(event: dict[str, Any]) -> str:
    """Names a layout: the venue (immutable) and the event's tiers (immutable once published)."""
    source = orjson.dumps(
        [event["venue_id"], event["price_tiers"], event["section_tiers"]],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(source).hexdigest()[:32]


def _keys(sold: bytes, held: bytes) -> memoryview:
    """sold[i] << 8 | held[i] for each i, without a Python-level loop: the two bytes side by side
    read as one unsigned short in the machine's byte order."""
    pairs = bytearray(2 * len(sold))
    high, low = (0, 1) if sys.byteorder == "big" else (1, 0)
    pairs[high::2], pairs[low::2] = sold, held
    return memoryview(pairs).cast("H")


class _Run:
    """Seats that follow each other both in the venue's order and in bit order: rendered eight
    at a time, each eight from the two bytes of the bitmaps that hold their states."""

    __slots__ = ("first_bit", "leads", "memos")

    def __init__(self, first_bit: int) -> None:
        self.first_bit = first_bit
        self.leads: list[bytes] = []  # the seat map's JSON before each seat's status
        self.memos: tuple[dict[int, bytes], ...] = ()

    def close(self) -> None:
        self.memos = tuple({} for _ in range((len(self.leads) + 7) // 8))

    def render(self, sold: int, held: int, total_bits: int) -> list[bytes]:
        """`sold`, `held`: the bitmaps as integers of `total_bits` bits."""
        length = len(self.leads)
        octets = len(self.memos)
        shift, pad = total_bits - self.first_bit - length, octets * 8 - length
        mask = ~(-1 << length)
        sold_here = (((sold >> shift) & mask) << pad).to_bytes(octets, "big")
        held_here = (((held >> shift) & mask) << pad).to_bytes(octets, "big")
        keys = _keys(sold_here, held_here)
        pieces: list[bytes | None] = list(map(dict.get, self.memos, keys))
        if None in pieces:
            for octet, piece in enumerate(pieces):
                if piece is None:
                    pieces[octet] = self._octet(octet, keys[octet])
        return pieces  # type: ignore[return-value]  # no None left

    def _octet(self, octet: int, key: int) -> bytes:
        leads = self.leads[octet * 8 : octet * 8 + 8]
        piece = b"".join(chain.from_iterable(zip(leads, _OCTETS[key], strict=False)))
        memo = self.memos[octet]
        if len(memo) < MEMO_PER_OCTET:
            memo[key] = piece
        return piece


@dataclass(frozen=True, slots=True)
class _Section:
    section_id: str
    capacity: int


Piece = bytes | int | _Run  # static JSON, a changing value (its slot), or a run of seats


@dataclass(frozen=True, slots=True)
class EventLayout:
    """One layout version of one event: its document, and its seat map cut into pieces."""

    version: str
    document: bytes  # the layout, as served
    # The same, compressed once per version (14,000 seats: 655 KB → 79 KB, 18 ms of CPU).
    document_gzip: bytes
    seat_count: int
    sections: tuple[_Section, ...]
    pieces: tuple[Piece, ...]  # the seat map: slot 0 the event status, 1 + 3n.. section n's counts

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @classmethod
    def build(cls, event: dict[str, Any], venue: dict[str, Any]) -> EventLayout:
        tiers = event["section_tiers"]
        seated = [s for s in venue["sections"] if s["kind"] == "seated"]
        bits = bit_indexes(seat for section in seated for seat, _, _ in seat_ids(section))
        order: list[int] = []  # venue-order seat k → its bit index
        layout_sections: list[dict[str, Any]] = []
        seatmap_sections: list[dict[str, Any]] = []
        mark = uuid.uuid4().hex  # stands in for the changing values, unique to this rendering
        state = f"{mark}s"
        for number, section in enumerate(venue["sections"]):
            section_id = section["section_id"]
            header = {
                "section_id": section_id,
                "name": section["name"],
                "kind": section["kind"],
                "price_tier": tiers[section_id],
                "capacity": capacity_of(section),
            }
            counts = {
                name: f"{mark}n{1 + 3 * number + n}"
                for n, name in enumerate(("available", "held", "sold"))
            }
            if section["kind"] != "seated":
                layout_sections.append(header)
                seatmap_sections.append(header | counts)
                continue
            rows: list[dict[str, Any]] = []
            layout_rows: list[dict[str, Any]] = []
            for row in section["rows"]:
                ids = [f"{section_id}-{row['label']}-{n}" for n in range(1, row["seats"] + 1)]
                order += [bits[seat] for seat in ids]
                tier = header["price_tier"]
                seats = [
                    {"seat_id": s, "number": n, "price_tier": tier, "status": state}
                    for n, s in enumerate(ids, 1)
                ]
                rows.append({"label": row["label"], "seats": seats})
                layout_rows.append(
                    {
                        "label": row["label"],
                        "seats": [
                            {"seat_id": s, "number": n, "bit": bits[s]}
                            for n, s in enumerate(ids, 1)
                        ],
                    }
                )
            layout_sections.append(header | {"rows": layout_rows})
            seatmap_sections.append(header | counts | {"rows": rows})
        version = layout_version(event)
        document = orjson.dumps(
            {
                "event_id": event["event_id"],
                "venue_id": event["venue_id"],
                "version": version,
                "price_tiers": event["price_tiers"],
                "seat_count": len(order),
                "sections": layout_sections,
            }
        )
        seatmap = orjson.dumps(
            {
                "event_id": event["event_id"],
                "venue_id": event["venue_id"],
                "event_status": f"{mark}n0",
                "price_tiers": event["price_tiers"],
                "sections": seatmap_sections,
            }
        )
        return cls(
            version=version,
            document=document,
            document_gzip=gzip.compress(document, compresslevel=6, mtime=0),
            seat_count=len(order),
            sections=tuple(_Section(s["section_id"], capacity_of(s)) for s in venue["sections"]),
            pieces=_cut(seatmap, mark.encode(), order),
        )

    def seatmap(self, event_status: str, bits: AvailabilityBits | None) -> bytes:
        """The contract's seat map with inventory's `bits` (None: nothing sold or held yet, as
        for a draft, which inventory does not know)."""
        sold = held = 0
        counts: dict[str, SectionAvailability] = {}
        total = (self.seat_count + 7) // 8 * 8
        if bits is not None:
            if bits.seat_count != self.seat_count:
                raise PeerUnavailable("inventory", "its seats do not match the event's layout")
            sold = int.from_bytes(base64.b64decode(bits.sold), "big")
            held = int.from_bytes(base64.b64decode(bits.held), "big") & ~sold
            counts = {s.section_id: s for s in bits.sections}
        values: list[bytes] = [orjson.dumps(event_status)]
        for section in self.sections:
            live = counts.get(section.section_id)
            held_here, sold_here = (live.held, live.sold) if live else (0, 0)
            available = live.available if live else section.capacity - held_here - sold_here
            values += (b"%d" % available, b"%d" % held_here, b"%d" % sold_here)
        parts: list[bytes] = []
        for piece in self.pieces:
            if isinstance(piece, bytes):
                parts.append(piece)
            elif isinstance(piece, int):
                parts.append(values[piece])
            else:
                parts += piece.render(sold, held, total)
        return b"".join(parts)


def _cut(seatmap: bytes, mark: bytes, order: list[int]) -> tuple[Piece, ...]:
    """The seat map's JSON as static pieces, slots (`"<mark>n<slot>"`) and runs of seats (each
    `"<mark>s"` a seat's status, seats in venue order, `order` their bit indexes)."""
    split = re.split(b'"' + mark + b'(s|n[0-9]+)"', seatmap)
    pieces: list[Piece] = []
    seats = iter(order)
    run: _Run | None = None
    for index in range(1, len(split), 2):
        before, tag = split[index - 1], split[index]
        if tag == b"s":
            bit = next(seats)
            if run is None or run.first_bit + len(run.leads) != bit:
                if run is not None:
                    run.close()
                run = _Run(bit)
                pieces.append(run)
            run.leads.append(before)
            continue
        if run is not None:
            run.close()
            run = None
        pieces += (before, int(tag[1:]))
    if run is not None:
        run.close()
    pieces.append(split[-1])
    return tuple(pieces)


class LayoutCache:
    """Rendered layouts by version, least recently used out first, bounded by the seats they
    hold (a stadium's rendering is some 15 MB). Versions never change meaning, so an entry is
    never stale; a draft's edit simply makes a new version."""

    def __init__(self, max_seats: int = 300_000) -> None:
        self.max_seats = max_seats
        self._layouts: OrderedDict[str, EventLayout] = OrderedDict()
        self._seats = 0

    def get(self, event: dict[str, Any], venue: dict[str, Any]) -> EventLayout:
        version = layout_version(event)
        key = f"{event['event_id']}:{version}"
        layout = self._layouts.get(key)
        if layout is not None:
            self._layouts.move_to_end(key)
            return layout
        layout = EventLayout.build(event, venue)
        self._layouts[key] = layout
        self._seats += layout.seat_count
        while self._seats > self.max_seats and len(self._layouts) > 1:
            _, dropped = self._layouts.popitem(last=False)
            self._seats -= dropped.seat_count
        return layout
