"""The inventory's public request and response bodies (docs/api.md); its internal ones are the
commands' in ticketing_common.contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from ticketing_common import contracts
from ticketing_common.contracts import HoldStatus, SeatId, SectionId, Strict, no_duplicates

SeatStatus = Literal["available", "held", "sold"]


class HoldIn(Strict):
    """Either `seat_ids` (seated) or `section_id` + `quantity` (standing)."""

    seat_ids: list[SeatId] | None = Field(default=None, min_length=1, max_length=100)
    section_id: SectionId | None = None
    quantity: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _one_shape(self) -> HoldIn:
        if self.seat_ids is not None:
            if self.section_id is not None or self.quantity is not None:
                raise ValueError("give either seat_ids or section_id with quantity, not both")
            no_duplicates(self.seat_ids)
        elif self.section_id is None or self.quantity is None:
            raise ValueError("give seat_ids, or section_id with quantity")
        return self


class Hold(BaseModel):
    hold_id: str
    event_id: str
    user_id: str
    seat_ids: list[str]
    section_id: str | None = Field(description="The standing section held; null for seats")
    quantity: int
    expires_at: datetime
    status: HoldStatus


class Availability(contracts.Availability):
    seats: dict[str, SeatStatus] | None = Field(
        default=None, description="Every seat's status (only with ?seats=true)"
    )
