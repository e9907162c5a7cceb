"""What a hold costs: an event's price tiers applied to the sections its places are in.

A published event's prices never change (only drafts are edited), so the service that prices
every booking keeps each event's `Pricing` instead of asking events once per booking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ticketing_common.contracts import EventSummary
from ticketing_common.seats import section_of_seat


class Unpriced(Exception):
    """The places name a section the event does not price."""

    def __init__(self, section_id: str) -> None:
        super().__init__(f"the event prices no section {section_id!r}")
        self.section_id = section_id


@dataclass(frozen=True, slots=True)
class Pricing:
    currency: str  # one per event (events validates it)
    section_prices: dict[str, int]  # cents, per section id

    @classmethod
    def of(cls, event: EventSummary) -> Pricing:
        prices = {tier.tier: tier.price_cents for tier in event.price_tiers}
        return cls(
            event.currency,
            {section: prices[tier] for section, tier in event.section_tiers.items()},
        )

    def amount_cents(self, seat_ids: Sequence[str], section_id: str | None, quantity: int) -> int:
        """Seats at their sections' prices, or `quantity` standing places of `section_id`."""
        if seat_ids:
            return sum(self._price(section_of_seat(seat_id)) for seat_id in seat_ids)
        if section_id is None:
            raise Unpriced("")
        return self._price(section_id) * quantity

    def _price(self, section_id: str) -> int:
        price = self.section_prices.get(section_id)
        if price is None:
            raise Unpriced(section_id)
        return price
