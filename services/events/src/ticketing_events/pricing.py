"""What seats cost: an event's price tiers applied to its venue's sections."""

from __future__ import annotations

from typing import Any

from ticketing_common.contracts import QuoteIn
from ticketing_common.problems import unprocessable

from ticketing_events.venues import find_seat


def currency_of(event: dict[str, Any]) -> str:
    return str(event["price_tiers"][0]["currency"])  # one currency per event (validated)


def min_price_cents(event: dict[str, Any]) -> int:
    """The cheapest price a customer can actually buy: tiers no section uses do not count."""
    used = set(event["section_tiers"].values())
    prices = [t["price_cents"] for t in event["price_tiers"] if t["tier"] in used]
    return int(min(prices or [t["price_cents"] for t in event["price_tiers"]]))


def quote(event: dict[str, Any], sections: list[dict[str, Any]], ask: QuoteIn) -> dict[str, Any]:
    """Price seats (`seat_ids`) or standing places (`section_id` + `quantity`)."""
    prices = {t["tier"]: t["price_cents"] for t in event["price_tiers"]}
    tiers = event["section_tiers"]
    lines: list[dict[str, Any]] = []
    if ask.seat_ids:
        if len(set(ask.seat_ids)) != len(ask.seat_ids):
            raise unprocessable((["body", "seat_ids"], "seat ids repeat", "duplicate_seat"))
        if ask.quantity is not None and ask.quantity != len(ask.seat_ids):
            raise unprocessable(
                (["body", "quantity"], "quantity must equal the number of seats", "quantity")
            )
        unknown = []
        for seat_id in ask.seat_ids:
            section = find_seat(sections, seat_id)
            if section is None or (ask.section_id and ask.section_id != section["section_id"]):
                unknown.append(seat_id)
                continue
            tier = tiers[section["section_id"]]
            lines.append(
                {
                    "seat_id": seat_id,
                    "section_id": section["section_id"],
                    "tier": tier,
                    "price_cents": prices[tier],
                }
            )
        if unknown:
            raise unprocessable(
                (
                    ["body", "seat_ids"],
                    f"not seats of this event{' section' if ask.section_id else ''}: "
                    + ", ".join(unknown),
                    "unknown_seat",
                )
            )
    elif ask.section_id is not None:
        section = next((s for s in sections if s["section_id"] == ask.section_id), None)
        if section is None or section["kind"] != "standing":
            raise unprocessable(
                (["body", "section_id"], "not a standing section of this event", "unknown_section")
            )
        if ask.quantity is None:
            raise unprocessable(
                (["body", "quantity"], "standing places need a quantity", "missing")
            )
        tier = tiers[ask.section_id]
        line = {
            "seat_id": None,
            "section_id": ask.section_id,
            "tier": tier,
            "price_cents": prices[tier],
        }
        lines = [line] * ask.quantity  # one line per place, so the lines add up to the amount
    else:
        raise unprocessable((["body"], "quote seat_ids, or a section_id and quantity", "missing"))
    return {
        "event_id": event["event_id"],
        "event_status": event["status"],
        "amount_cents": sum(line["price_cents"] for line in lines),
        "currency": currency_of(event),
        "lines": lines,
    }
