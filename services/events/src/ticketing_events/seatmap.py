"""The seat map: the venue's sections → rows → seats with each seat's price tier, merged with
inventory's live status of every seat and the counts of every standing area."""

from __future__ import annotations

from typing import Any

from ticketing_events.venues import capacity_of, seat_ids


def build_seatmap(
    event: dict[str, Any], venue: dict[str, Any], availability: dict[str, Any] | None
) -> dict[str, Any]:
    """`availability` is inventory's answer (None: inventory has no seats for the event yet, as
    for a draft — then everything is available)."""
    statuses: dict[str, str] = (availability or {}).get("seats") or {}
    counts = {s["section_id"]: s for s in (availability or {}).get("sections") or []}
    sections = []
    for section in venue["sections"]:
        section_id = section["section_id"]
        tier = event["section_tiers"][section_id]
        capacity = capacity_of(section)
        entry: dict[str, Any] = {
            "section_id": section_id,
            "name": section["name"],
            "kind": section["kind"],
            "price_tier": tier,
            "capacity": capacity,
        }
        if section["kind"] == "seated":
            rows: dict[str, list[dict[str, Any]]] = {row["label"]: [] for row in section["rows"]}
            tally = {"available": 0, "held": 0, "sold": 0}
            for seat_id, label, number in seat_ids(section):
                status = statuses.get(seat_id, "available")
                tally[status] = tally.get(status, 0) + 1
                rows[label].append(
                    {"seat_id": seat_id, "number": number, "price_tier": tier, "status": status}
                )
            entry |= tally
            entry["rows"] = [{"label": label, "seats": seats} for label, seats in rows.items()]
        else:
            live = counts.get(section_id, {})
            held, sold = int(live.get("held", 0)), int(live.get("sold", 0))
            entry |= {
                "available": int(live.get("available", capacity - held - sold)),
                "held": held,
                "sold": sold,
            }
        sections.append(entry)
    return {
        "event_id": event["event_id"],
        "venue_id": event["venue_id"],
        "event_status": event["status"],
        "price_tiers": event["price_tiers"],
        "sections": sections,
    }
