"""An event's prices as its pages show them (what a hold costs is ticketing_common.pricing)."""

from __future__ import annotations

from typing import Any


def currency_of(event: dict[str, Any]) -> str:
    return str(event["price_tiers"][0]["currency"])  # one currency per event (validated)


def min_price_cents(event: dict[str, Any]) -> int:
    """The cheapest price a customer can actually buy: tiers no section uses do not count."""
    used = set(event["section_tiers"].values())
    prices = [t["price_cents"] for t in event["price_tiers"] if t["tier"] in used]
    return int(min(prices or [t["price_cents"] for t in event["price_tiers"]]))
