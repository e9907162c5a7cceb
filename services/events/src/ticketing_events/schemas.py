"""The public and internal shapes (API.md fixes the field names). Input models validate; output
models only describe, so a stored event whose start has passed still serialises."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from ticketing_common.cursors import Page

from ticketing_events.currencies import ISO_4217

MAX_VENUE_PLACES = 150_000
MAX_SECTIONS = 500
MAX_ROWS_PER_SECTION = 500
MAX_SEATS_PER_ROW = 1_000
MAX_PRICE_CENTS = 100_000_000  # a million in major units: anything above is a typo

_PART = re.compile(r"^[A-Za-z0-9_]{1,16}$")
_TIER = re.compile(r"^[A-Za-z0-9_ ]{1,50}$")


def _seat_id_part(value: str) -> str:
    if not _PART.match(value):
        raise ValueError(
            "must be 1-16 letters, digits or underscores ('-' separates the parts of a seat id)"
        )
    return value


def _tier_name(value: str) -> str:
    if not _TIER.match(value):
        raise ValueError("must be 1-50 letters, digits, spaces or underscores")
    return value


def _currency(value: str) -> str:
    if value not in ISO_4217:
        raise ValueError("must be an ISO 4217 currency code such as EUR, GBP or USD")
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/London") from None
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _text(max_length: int, min_length: int = 1) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


SectionId = Annotated[str, AfterValidator(_seat_id_part)]
RowLabel = Annotated[str, AfterValidator(_seat_id_part)]
TierName = Annotated[str, AfterValidator(_tier_name)]
Currency = Annotated[str, AfterValidator(_currency)]
Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)
]
EventStatus = Literal["draft", "on_sale", "cancelled"]
SeatStatus = Literal["available", "held", "sold"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- venues ------------------------------------------------------------------------------------


class Row(Strict):
    label: RowLabel
    seats: Annotated[StrictInt, Field(ge=1, le=MAX_SEATS_PER_ROW)]


class SeatedSectionIn(Strict):
    section_id: SectionId
    name: Annotated[str, _text(100)]
    kind: Literal["seated"]
    rows: Annotated[list[Row], Field(min_length=1, max_length=MAX_ROWS_PER_SECTION)]

    @model_validator(mode="after")
    def _unique_row_labels(self) -> SeatedSectionIn:
        labels = [row.label for row in self.rows]
        if duplicates := sorted({label for label in labels if labels.count(label) > 1}):
            raise ValueError(f"row labels must be unique in a section: {', '.join(duplicates)}")
        return self


class StandingSectionIn(Strict):
    section_id: SectionId
    name: Annotated[str, _text(100)]
    kind: Literal["standing"]
    capacity: Annotated[StrictInt, Field(ge=1, le=MAX_VENUE_PLACES)]


SectionIn = Annotated[SeatedSectionIn | StandingSectionIn, Field(discriminator="kind")]


class VenueIn(Strict):
    name: Annotated[str, _text(200)]
    city: Annotated[str, _text(100)]
    country: Annotated[str, _text(100, min_length=2)]
    address: Annotated[str, _text(500)]
    timezone: Timezone
    sections: Annotated[list[SectionIn], Field(min_length=1, max_length=MAX_SECTIONS)]

    @model_validator(mode="after")
    def _sections_fit(self) -> VenueIn:
        ids = [section.section_id for section in self.sections]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"section ids must be unique: {', '.join(duplicates)}")
        places = sum(section_capacity(section) for section in self.sections)
        if places > MAX_VENUE_PLACES:
            raise ValueError(
                f"the venue has {places:,} places; a venue holds at most {MAX_VENUE_PLACES:,}"
            )
        return self


def section_capacity(section: SeatedSectionIn | StandingSectionIn) -> int:
    if isinstance(section, StandingSectionIn):
        return section.capacity
    return sum(row.seats for row in section.rows)


class RowOut(BaseModel):
    label: str
    seats: int


class SeatedSection(BaseModel):
    section_id: str
    name: str
    kind: Literal["seated"]
    rows: list[RowOut]
    capacity: int


class StandingSection(BaseModel):
    section_id: str
    name: str
    kind: Literal["standing"]
    capacity: int


class Venue(BaseModel):
    venue_id: str
    organizer_id: str
    name: str
    city: str
    country: str
    address: str
    timezone: str
    sections: list[Annotated[SeatedSection | StandingSection, Field(discriminator="kind")]]
    capacity: int
    in_use: bool = Field(
        description="An event has been put on this venue: its sections can no longer change"
    )
    created_at: datetime


class VenuePage(Page[Venue]):
    pass


# --- events ------------------------------------------------------------------------------------


class PriceTier(Strict):
    tier: TierName
    price_cents: Annotated[StrictInt, Field(ge=0, le=MAX_PRICE_CENTS)]
    currency: Currency


class EventIn(Strict):
    venue_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    title: Annotated[str, _text(200)]
    description: Annotated[str, _text(5000, min_length=0)] = ""
    category: Category
    starts_at: UtcDatetime
    ends_at: UtcDatetime | None = None
    price_tiers: Annotated[list[PriceTier], Field(min_length=1, max_length=50)]
    section_tiers: Annotated[dict[SectionId, TierName], Field(max_length=MAX_SECTIONS)]

    @model_validator(mode="after")
    def _consistent(self) -> EventIn:
        names = [tier.tier for tier in self.price_tiers]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"price tier names must be unique: {', '.join(duplicates)}")
        if len({tier.currency for tier in self.price_tiers}) > 1:
            raise ValueError("all price tiers of an event must use one currency")
        if undefined := sorted(set(self.section_tiers.values()) - set(names)):
            raise ValueError(f"section_tiers names undefined price tiers: {', '.join(undefined)}")
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class EventPatch(Strict):
    """Any subset of EventIn's fields; the merged event is validated as a whole."""

    venue_id: str | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    price_tiers: list[dict[str, Any]] | None = None
    section_tiers: dict[str, Any] | None = None


class PriceTierOut(BaseModel):
    tier: str
    price_cents: int
    currency: str


class Event(BaseModel):
    event_id: str
    organizer_id: str
    venue_id: str
    title: str
    description: str
    category: str
    starts_at: datetime
    ends_at: datetime | None
    price_tiers: list[PriceTierOut]
    section_tiers: dict[str, str]
    status: EventStatus
    city: str
    created_at: datetime
    published_at: datetime | None = None
    cancelled_at: datetime | None = None


class ListingParams(BaseModel):
    """The public listing's query (GET /api/v1/events)."""

    city: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=50)
    starts_after: AwareDatetime | None = Field(
        default=None, description="Events starting at or after this time"
    )
    starts_before: AwareDatetime | None = Field(
        default=None, description="Events starting before this time"
    )
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class EventPage(Page[Event]):
    pass


# --- seat map ----------------------------------------------------------------------------------


class SeatOut(BaseModel):
    seat_id: str
    number: int
    price_tier: str
    status: SeatStatus


class SeatmapRow(BaseModel):
    label: str
    seats: list[SeatOut]


class SeatmapSection(BaseModel):
    section_id: str
    name: str
    kind: Literal["seated", "standing"]
    price_tier: str
    capacity: int
    available: int
    held: int
    sold: int
    rows: list[SeatmapRow] | None = Field(default=None, description="Seated sections only")


class Seatmap(BaseModel):
    event_id: str
    venue_id: str
    event_status: EventStatus
    price_tiers: list[PriceTierOut]
    sections: list[SeatmapSection]


class LayoutSeat(BaseModel):
    seat_id: str
    number: int
    bit: int = Field(description="The seat's index in inventory's availability bitmaps")


class LayoutRow(BaseModel):
    label: str
    seats: list[LayoutSeat]


class LayoutSection(BaseModel):
    section_id: str
    name: str
    kind: Literal["seated", "standing"]
    price_tier: str
    capacity: int
    rows: list[LayoutRow] | None = Field(default=None, description="Seated sections only")


class Layout(BaseModel):
    """An event's seats without their live status: immutable once the event is published."""

    event_id: str
    venue_id: str
    version: str = Field(description="Names this layout; the ETag is it, quoted")
    price_tiers: list[PriceTierOut]
    seat_count: int = Field(description="Seats with a bit (standing places have none)")
    sections: list[LayoutSection]


# --- waiting room ------------------------------------------------------------------------------

# What an event's room is until its organizer configures it: off.
WAITING_ROOM_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "opens_at": None,
    "admission_per_minute": 600,
    "max_shoppers": 2000,
    "shopping_minutes": 10,
}


class WaitingRoomSettingsIn(Strict):
    enabled: StrictBool = Field(
        default=False, description="The room is on: holds and bookings need an admission token"
    )
    opens_at: UtcDatetime | None = Field(
        default=None,
        description="The on-sale's opening: who arrives before it is put in a random order at "
        "this time, who arrives after it queues first come, first served. Required when enabled.",
    )
    admission_per_minute: Annotated[StrictInt, Field(ge=1, le=100_000)] = Field(
        default=600, description="At most this many people admitted per minute"
    )
    max_shoppers: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = Field(
        default=2000, description="At most this many admitted people shopping at once"
    )
    shopping_minutes: Annotated[StrictInt, Field(ge=1, le=120)] = Field(
        default=10, description="How long an admitted person may shop (the token's lifetime)"
    )


# --- internal ----------------------------------------------------------------------------------


class InternalEvent(Event):
    venue_name: str
    currency: str
    min_price_cents: int
