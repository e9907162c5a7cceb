"""Decoding the availability script's answer: counts per section, and every seat's state from the
SOLD and HELD bitmaps (12.5 kB each for 100,000 seats) — either as a status per seat id, or as
the two bitmaps themselves (the compact form a client lays over the event's layout)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class SeatIds:
    """An event's seat ids in bit-index order, cached by layout hash (a layout never changes
    without a new hash)."""

    digest: bytes
    ids: list[str]


_STATUS = {("0", "0"): "available", ("0", "1"): "held", ("1", "0"): "sold", ("1", "1"): "sold"}


def _bits(bitmap: bytes, count: int) -> str:
    """'0'/'1' per seat; Redis bitmaps are big-endian within each byte (bit 0 = 0x80 of byte 0)."""
    size = (count + 7) // 8
    padded = bitmap[:size].ljust(size, b"\0")
    return format(int.from_bytes(padded, "big"), f"0{size * 8}b")[:count] if count else ""


def _counts(event_id: str, reply: list[Any]) -> dict[str, Any]:
    _, _, status, sections_json, sold_flat, held = reply[:6]
    sold = {int(k): int(v) for k, v in zip(sold_flat[::2], sold_flat[1::2], strict=True)}
    sections = []
    for number, (section_id, kind, capacity) in enumerate(orjson.loads(sections_json)):
        sold_here, held_here = sold.get(number, 0), int(held[number])
        sections.append(
            {
                "section_id": section_id,
                "kind": kind,
                "capacity": capacity,
                "available": capacity - sold_here - held_here,
                "held": held_here,
                "sold": sold_here,
            }
        )
    return {"event_id": event_id, "status": status.decode(), "sections": sections}


def decode_availability(
    event_id: str, reply: list[Any], cached: SeatIds | None
) -> tuple[dict[str, Any], SeatIds | None]:
    answer = _counts(event_id, reply)
    if len(reply) == 6:
        return answer, cached
    sold_bitmap, held_bitmap, expired, seat_blob = reply[6:10]
    digest = reply[1]
    if seat_blob:
        seat_ids = SeatIds(digest, seat_blob.decode().split("\n"))
    elif cached is not None and cached.digest == digest:
        seat_ids = cached
    else:  # an event with standing sections only
        seat_ids = SeatIds(digest, [])
    count = len(seat_ids.ids)
    held_bits = list(_bits(held_bitmap, count))
    for index in expired:  # expired claims nobody tidied yet: their HELD bit is stale
        held_bits[int(index)] = "0"
    answer["seats"] = {
        seat: _STATUS[pair]
        for seat, pair in zip(
            seat_ids.ids, zip(_bits(sold_bitmap, count), held_bits, strict=True), strict=True
        )
    }
    return answer, seat_ids


def decode_bits(event_id: str, reply: list[Any]) -> dict[str, Any]:
    """The counts plus `sold` and `held` as base64 bitmaps of `seat_count` bits, seat i at bit i
    (ticketing_common.seats' order), most significant bit of byte 0 first. The two are
    exclusive: a sold seat's held bit is clear, and so is the bit of a claim that has expired."""
    answer = _counts(event_id, reply)
    sold_bitmap, held_bitmap, expired = reply[6:9]
    count = sum(s["capacity"] for s in answer["sections"] if s["kind"] == "seated")
    size = (count + 7) // 8
    held_bytes = bytearray(held_bitmap[:size].ljust(size, b"\0"))
    for index in expired:
        seat = int(index)
        held_bytes[seat >> 3] &= 0xFF ^ (0x80 >> (seat & 7))
    sold = int.from_bytes(sold_bitmap[:size].ljust(size, b"\0"), "big")
    held = int.from_bytes(held_bytes, "big") & ~sold
    answer["seat_count"] = count
    answer["sold"] = base64.b64encode(sold.to_bytes(size, "big")).decode()
    answer["held"] = base64.b64encode(held.to_bytes(size, "big")).decode()
    return answer
