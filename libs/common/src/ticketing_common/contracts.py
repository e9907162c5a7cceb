"""Every command one service sends another, in one place (as Online Boutique's demo.proto lists
its RPCs): who answers, the method and path, the request and the answer, typed. Facts (what
happened) are in `facts`; commands (what must be done or known now) are here.

The answering service declares its routes with these models; the calling service sends them
through a `PeerClient` (`peers`), which validates the answer against the same model. A command's
`refusals` are the definite answers the caller acts on (404 unknown, 409 refused, ...); anything
else that is not a 2xx is the peer failing (`PeerUnavailable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ticketing_common.facts import EventPublished

RequestT = TypeVar("RequestT", bound=BaseModel)
AnswerT = TypeVar("AnswerT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Command(Generic[RequestT, AnswerT]):
    """One service-to-service call. `path` is a template (`/internal/holds/{hold_id}`)."""

    service: str  # who answers
    method: Literal["GET", "POST", "PUT"]
    path: str
    request: type[RequestT]
    answer: type[AnswerT]
    callers: tuple[str, ...]
    refusals: frozenset[int] = frozenset()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


SeatId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SectionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^-\s]+$")]
BookingId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Tier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
HoldStatus = Literal["held", "expired", "released", "confirmed"]
EventStatus = Literal["draft", "on_sale", "cancelled"]
SalesStatus = Literal["open", "closed"]  # closed: cancelled, no new holds
PaymentStatus = Literal["creating", "requires_payment", "succeeded", "failed", "refunded"]
RefundStatus = Literal["pending", "succeeded", "failed"]
PaymentKey = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def no_duplicates(seat_ids: list[str]) -> None:
    if len(set(seat_ids)) != len(seat_ids):
        duplicates = sorted({s for s in seat_ids if seat_ids.count(s) > 1})
        raise ValueError(f"seat_ids lists {', '.join(duplicates)} more than once")


class NoBody(BaseModel):
    """A command without a request body, or whose answer has none (204)."""


# --- inventory ---------------------------------------------------------------------------------


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

    user_id: UserId
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
        no_duplicates(self.seat_ids)
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
    user_id: UserId
    seat_ids: list[SeatId] = Field(default_factory=list, max_length=100)
    section_id: SectionId | None = None
    quantity: int = Field(ge=1, le=100)
    expires_at: datetime


class RebuildIn(Strict):
    layout: LayoutIn
    sold: list[SoldIn] = Field(default_factory=list)
    holds: list[BookedHold] = Field(default_factory=list)


class RebuildOut(BaseModel):
    event_id: str
    capacity: int
    sold: int = Field(description="Seats and places sold after the rebuild")
    status: SalesStatus
    holds_restored: int = 0
    holds_skipped: list[str] = Field(
        default_factory=list, description="Holds not restored: expired, or their places are sold"
    )


class ClosedOut(BaseModel):
    event_id: str
    status: Literal["closed"]


class SectionAvailability(BaseModel):
    section_id: str
    kind: Literal["seated", "standing"]
    capacity: int
    available: int
    held: int
    sold: int


class Availability(BaseModel):
    """Inventory's public availability (`GET /api/v1/inventory/events/{id}/availability`)."""

    event_id: str
    status: SalesStatus = Field(description="closed: no new holds")
    sections: list[SectionAvailability]


class AvailabilityBits(BaseModel):
    """Every seat's state in two bitmaps: a few hundred bytes per 1,000 seats (the public
    `.../availability/bits`, which events' seat map is drawn from)."""

    event_id: str
    status: SalesStatus = Field(description="closed: no new holds")
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


# --- events ------------------------------------------------------------------------------------


class PriceTierSummary(BaseModel):
    tier: str
    price_cents: int
    currency: str


class EventSummary(BaseModel):
    """What services read of an event (`GET /internal/events/{id}`; events answers with more).
    Its prices (`price_tiers`, and the tier of each section) are fixed once it is published."""

    event_id: str
    organizer_id: str
    title: str
    status: EventStatus
    venue_name: str
    city: str
    starts_at: datetime
    currency: str
    price_tiers: list[PriceTierSummary]
    section_tiers: dict[str, str]


class SearchDocuments(BaseModel):
    items: list[EventPublished] = Field(description="event.published fact data, one per event")
    next_cursor: str | None


class InventoryEvent(BaseModel):
    event_id: str
    status: SalesStatus = Field(description="closed: cancelled, no new holds")


class InventoryEvents(BaseModel):
    items: list[InventoryEvent]
    next_cursor: str | None


class InventoryLayout(BaseModel):
    event_id: str
    status: SalesStatus
    layout: LayoutIn = Field(
        description="`seats` [{seat_id, section_id, price_tier}] and `standing` [{section_id, "
        "capacity, price_tier}], as inventory's PUT layout takes them"
    )


class WaitingRoomSettings(BaseModel):
    """An event's waiting room, as its organizer set it (the public `.../waiting-room` too)."""

    event_id: str
    enabled: bool
    opens_at: datetime | None
    admission_per_minute: int
    max_shoppers: int
    shopping_minutes: int


class WaitingRooms(BaseModel):
    items: list[WaitingRoomSettings] = Field(
        description="Every room that is on, of events that are not cancelled"
    )


# --- booking -----------------------------------------------------------------------------------


class Sales(BaseModel):
    """An event's durable truth, as inventory rebuilds and reconciles its state from it."""

    sold: list[SoldIn] = Field(description="Confirmed bookings: what they bought")
    holds: list[BookedHold] = Field(
        default_factory=list, description="Holds of bookings awaiting payment"
    )
    unsettled: list[BookingId] = Field(
        default_factory=list,
        description="Bookings that may be sold their seats any moment (awaiting or confirming "
        "a payment): inventory keeps their sales",
    )


# --- payment -----------------------------------------------------------------------------------


class PaymentIn(Strict):
    booking_id: PaymentKey
    user_id: PaymentKey
    amount_cents: int = Field(ge=0, le=100_000_000)
    currency: Currency


class PaymentCreated(BaseModel):
    payment_id: str
    provider: str
    client_secret: str
    status: PaymentStatus


class RefundIn(Strict):
    reason: Annotated[str, StringConstraints(max_length=255)] = ""


class RefundOut(BaseModel):
    refund_id: str
    status: RefundStatus


class PaymentState(BaseModel):
    payment_id: str
    booking_id: str
    status: PaymentStatus
    provider: str
    amount_cents: int
    currency: str
    failure_reason: str | None
    refund_id: str | None
    refund_status: RefundStatus | None
    updated_at: datetime


class PaymentChanges(BaseModel):
    items: list[PaymentState]
    next_cursor: str | None


# --- auth --------------------------------------------------------------------------------------


class UserIds(Strict):
    ids: Annotated[list[Annotated[str, StringConstraints(max_length=36)]], Field(max_length=500)]


class Contact(BaseModel):
    """Who a user is, for an email or an export (auth answers with their whole `User`)."""

    id: str
    email: str
    name: str


class Contacts(BaseModel):
    users: list[Contact]


# --- the calls ---------------------------------------------------------------------------------

HOLD = Command(
    "inventory",
    "GET",
    "/internal/holds/{hold_id}",
    NoBody,
    HoldRecord,
    ("booking",),
    frozenset({404}),
)
CONFIRM_HOLD = Command(
    "inventory",
    "POST",
    "/internal/holds/{hold_id}/confirm",
    ConfirmIn,
    ConfirmOut,
    ("booking",),
    frozenset({404, 409}),
)
RELEASE_HOLD = Command(
    "inventory",
    "POST",
    "/internal/holds/{hold_id}/release",
    NoBody,
    NoBody,
    ("booking",),
    frozenset({404}),
)
RELEASE_SOLD = Command(
    "inventory",
    "POST",
    "/internal/events/{event_id}/release-sold",
    SoldIn,
    ReleasedOut,
    ("booking",),
)
AVAILABILITY = Command(
    "inventory",
    "GET",
    "/api/v1/inventory/events/{event_id}/availability",
    NoBody,
    Availability,
    ("booking",),
    frozenset({404}),
)
AVAILABILITY_BITS = Command(
    "inventory",
    "GET",
    "/api/v1/inventory/events/{event_id}/availability/bits",
    NoBody,
    AvailabilityBits,
    ("events",),
    frozenset({404}),
)
PUT_LAYOUT = Command(
    "inventory",
    "PUT",
    "/internal/events/{event_id}/layout",
    LayoutIn,
    LayoutOut,
    ("events",),
    frozenset({409}),
)
REBUILD = Command(
    "inventory", "POST", "/internal/events/{event_id}/rebuild", RebuildIn, RebuildOut, ("events",)
)
CLOSE_SALES = Command(
    "inventory",
    "POST",
    "/internal/events/{event_id}/close",
    NoBody,
    ClosedOut,
    ("events",),
    frozenset({404}),
)

EVENT = Command(
    "events",
    "GET",
    "/internal/events/{event_id}",
    NoBody,
    EventSummary,
    ("booking", "notification"),
    frozenset({404}),
)
SEARCH_DOCUMENTS = Command(
    "events", "GET", "/internal/search-documents", NoBody, SearchDocuments, ("search",)
)
INVENTORY_EVENTS = Command(
    "events", "GET", "/internal/inventory/events", NoBody, InventoryEvents, ("inventory",)
)
INVENTORY_LAYOUT = Command(
    "events",
    "GET",
    "/internal/events/{event_id}/inventory-layout",
    NoBody,
    InventoryLayout,
    ("inventory",),
    frozenset({404}),
)

WAITING_ROOMS = Command(
    "events", "GET", "/internal/waiting-rooms", NoBody, WaitingRooms, ("api-gateway",)
)

SALES = Command("booking", "GET", "/internal/events/{event_id}/sold", NoBody, Sales, ("inventory",))

CREATE_PAYMENT = Command(
    "payment", "POST", "/internal/payments", PaymentIn, PaymentCreated, ("booking",)
)
REFUND = Command(
    "payment", "POST", "/internal/payments/{payment_id}/refund", RefundIn, RefundOut, ("booking",)
)
PAYMENT = Command(
    "payment", "GET", "/internal/payments/{payment_id}", NoBody, PaymentState, ("booking",)
)
PAYMENT_CHANGES = Command(
    "payment", "GET", "/internal/payments", NoBody, PaymentChanges, ("booking",)
)

CONTACT = Command(
    "auth",
    "GET",
    "/internal/users/{user_id}",
    NoBody,
    Contact,
    ("notification",),
    frozenset({404}),
)
CONTACTS = Command("auth", "POST", "/internal/users/lookup", UserIds, Contacts, ("booking",))

COMMANDS: tuple[Command[Any, Any], ...] = (
    HOLD,
    CONFIRM_HOLD,
    RELEASE_HOLD,
    RELEASE_SOLD,
    AVAILABILITY,
    AVAILABILITY_BITS,
    PUT_LAYOUT,
    REBUILD,
    CLOSE_SALES,
    EVENT,
    SEARCH_DOCUMENTS,
    INVENTORY_EVENTS,
    INVENTORY_LAYOUT,
    WAITING_ROOMS,
    SALES,
    CREATE_PAYMENT,
    REFUND,
    PAYMENT,
    PAYMENT_CHANGES,
    CONTACT,
    CONTACTS,
)
