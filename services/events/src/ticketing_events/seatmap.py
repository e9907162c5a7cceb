"""The seat map: the venue's sections → rows → seats with each seat's price tier, merged with
inventory's live status of every seat and the counts of every section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ticketing_events.venues import capacity_of

AVAILABLE = "available"


def build_seatmap(
    event: dict[str, Any], venue: dict[str, Any], availability: dict[str, Any] | None
) -> dict[str, Any]:
    """`availability` is inventory's answer (None: inventory has no seats for the event yet, as
    for a draft — then everything is available). Built on every request of a seat map (a stadium
    is 60,000 seats), so the per-seat work is one comprehension; the section counts are
    inventory's, read in the same round trip as the statuses."""
    status_of = ((availability or {}).get("seats") or {}).get
    counts = {s["section_id"]: s for s in (availability or {}).get("sections") or []}
    sections = []
    for section in venue["sections"]:
        section_id = section["section_id"]
        tier = event["section_tiers"][section_id]
        capacity = capacity_of(section)
        live = counts.get(section_id, {})
        held, sold = int(live.get("held", 0)), int(live.get("sold", 0))
        entry: dict[str, Any] = {
            "section_id": section_id,
            "name": section["name"],
            "kind": section["kind"],
            "price_tier": tier,
            "capacity": capacity,
            "available": int(live.get("available", capacity - held - sold)),
            "held": held,
            "sold": sold,
        }
        if section["kind"] == "seated":
            entry["rows"] = [_row(section_id, row, tier, status_of) for row in section["rows"]]
        sections.append(entry)
    return {
        "event_id": event["event_id"],
        "venue_id": event["venue_id"],
        "event_status": event["status"],
        "price_tiers": event["price_tiers"],
        "sections": sections,
    }


def _row(
    section_id: str, row: dict[str, Any], tier: str, status_of: Callable[[str, str], str]
) -> dict[str, Any]:
    prefix = f"{section_id}-{row['label']}-"  # venues.seat_ids' derivation: this runs per seat
    return {
        "label": row["label"],
        "seats": [
            {
                "seat_id": (seat_id := f"{prefix}{number}"),
                "number": number,
                "price_tier": tier,
                "status": status_of(seat_id, AVAILABLE),
            }
            for number in range(1, row["seats"] + 1)
        ],
    }
