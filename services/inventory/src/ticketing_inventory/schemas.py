"""The inventory's request and response bodies (public per API.md; internal per the contracts)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SeatId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SectionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^-\s]+$")]
BookingId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Tier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
HoldStatus = Literal["held", "expired", "released", "confirmed"]
SeatStatus = Literal["available", "held", "sold"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_duplicates(seat_ids: list[str]) -> None:
    if len(set(seat_ids)) != len(seat_ids):
        duplicates = sorted({s for s in seat_ids if seat_ids.count(s) > 1})
        raise ValueError(f"seat_ids lists {', '.join(duplicates)} more than once")


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
            _no_duplicates(self.seat_ids)
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


class SectionAvailability(BaseModel):
    section_id: str
    kind: Literal["seated", "standing"]
    capacity: int
    available: int
    held: int
    sold: int


class Availability(BaseModel):
    event_id: str
    status: Literal["open", "closed"] = Field(description="closed: no new holds")
    sections: list[SectionAvailability]
    seats: dict[str, SeatStatus] | None = Field(
        default=None, description="Every seat's status (only with ?seats=true)"
    )


class AvailabilityBits(BaseModel):
    """Every seat's state in two bitmaps: a few hundred bytes per 1,000 seats."""

    event_id: str
    status: Literal["open", "closed"] = Field(description="closed: no new holds")
    sections: list[SectionAvailability]
    seat_count: int = Field(description="Bits in each bitmap: the event's seats")
    sold: str = Field(
        description="Base64 of a bitmap of `seat_count` bits, most significant bit of byte 0 "
        "first: bit i set = the seat whose layout `bit` is i is sold"
    )
    held: str = Field(
        description="The same for held seats (never set where `sold` is); a seat with neither "
        "bit is available"
    )


# Internal (service-to-service) bodies.


class LayoutSeat(Strict):
    seat_id: SeatId
    section_id: SectionId
    price_tier: Tier


class LayoutStanding(Strict):
    section_id: SectionId
    capacity: int = Field(ge=1, le=1_000_000)
    price_tier: Tier


class LayoutIn(Strict):
    seats: list[LayoutSeat] = Field(default_factory=list, max_length=250_000)
    standing: list[LayoutStanding] = Field(default_factory=list, max_length=1000)


class LayoutOut(BaseModel):
    event_id: str
    created: bool
    capacity: int


class HoldRecord(BaseModel):
    hold_id: str
    event_id: str
    user_id: str
    seat_ids: list[str]
    section_id: str | None
    quantity: int
    expires_at: datetime
    status: HoldStatus
    booking_id: str | None


class Claim(Strict):
    """What the booking says its hold held: used when the hold's record was lost with the cache
    (its seats are then re-claimed if they are free, like an expired hold's)."""

    user_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    seat_ids: list[SeatId] = Field(default_factory=list, max_length=100)
    section_id: SectionId | None = None
    quantity: int = Field(ge=1, le=100)


class ConfirmIn(Strict):
    booking_id: BookingId
    claim: Claim | None = None


class ConfirmOut(BaseModel):
    hold_id: str
    booking_id: str
    event_id: str
    seat_ids: list[str]
    section_id: str | None
    quantity: int
    reclaimed: bool = Field(description="The hold had lapsed and its seats were claimed again")


class SoldIn(Strict):
    """What one booking bought: seats (`section_id` null; `quantity` 0 or the number of seats),
    or `quantity` places of the standing section `section_id`."""

    booking_id: BookingId
    seat_ids: list[SeatId] = Field(default_factory=list, max_length=250_000)
    section_id: SectionId | None = None
    quantity: int = Field(default=0, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _consistent(self) -> SoldIn:
        _no_duplicates(self.seat_ids)
        if self.section_id is not None:
            if self.seat_ids or self.quantity < 1:
                raise ValueError("a standing sale names section_id and quantity >= 1, no seats")
        elif self.quantity not in (0, len(self.seat_ids)):
            raise ValueError("quantity of a seated sale is the number of its seats")
        return self


class ReleasedOut(BaseModel):
    event_id: str
    booking_id: str
    released_seat_ids: list[str] = Field(description="Seats this call gave back")
    released_quantity: int = Field(description="Standing places this call gave back")


class BookedHold(Strict):
    """A hold that a booking awaiting its payment was made from: a rebuild restores it."""

    hold_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    booking_id: BookingId
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    seat_ids: list[SeatId] = Field(default_factory=list, max_length=100)
    section_id: SectionId | None = None
    quantity: int = Field(ge=1, le=100)
    expires_at: datetime


class Sales(BaseModel):
    """Booking's durable truth about one event (`GET /internal/events/{id}/sold` on booking)."""

    sold: list[SoldIn]
    holds: list[BookedHold] = Field(default_factory=list)
    unsettled: list[BookingId] = Field(
        default_factory=list, description="Bookings whose payment is being confirmed right now"
    )


class RebuildIn(Strict):
    layout: LayoutIn
    sold: list[SoldIn] = Field(default_factory=list)
    holds: list[BookedHold] = Field(default_factory=list)


class RebuildOut(BaseModel):
    event_id: str
    capacity: int
    sold: int = Field(description="Seats and places sold after the rebuild")
    status: Literal["open", "closed"]
    holds_restored: int = 0
    holds_skipped: list[str] = Field(
        default_factory=list, description="Holds not restored: expired, or their places are sold"
    )


class ClosedOut(BaseModel):
    event_id: str
    status: Literal["closed"]
