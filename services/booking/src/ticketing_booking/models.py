"""A booking, as the saga sees it: plain data, with its DynamoDB item form."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from ticketing_common.facts import Ticket

Status = Literal["pending_payment", "confirmed", "cancelled", "expired", "refunded", "failed"]

# Which status may follow which: the saga's one state machine (docs/architecture.md draws it).
# A paid booking ends confirmed or with its money back; a late payment revives an expired or
# failed booking (its seats re-claimed if still free). Staying in a status is always allowed.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    "pending_payment": frozenset({"confirmed", "cancelled", "expired", "failed", "refunded"}),
    "expired": frozenset({"confirmed", "failed", "refunded"}),  # paid after the hold lapsed
    "failed": frozenset({"confirmed", "refunded"}),  # a success after a failed attempt
    "cancelled": frozenset({"refunded"}),  # paid after it was cancelled: the money goes back
    "confirmed": frozenset({"refunded"}),
    "refunded": frozenset(),
}


class IllegalTransition(Exception):
    """A bug: the saga tried to move a booking along an edge TRANSITIONS does not have."""


@dataclass(frozen=True, slots=True)
class PaymentInfo:
    payment_id: str
    provider: str
    client_secret: str

    def as_dict(self) -> dict[str, str]:
        """As stored in the booking item and shown in API.md's `Booking.payment`."""
        return {
            "payment_id": self.payment_id,
            "provider": self.provider,
            "client_secret": self.client_secret,
        }


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    user_id: str
    event_id: str
    hold_id: str
    seat_ids: tuple[str, ...]
    section_id: str | None
    quantity: int
    status: Status
    amount_cents: int
    currency: str
    hold_expires_at: datetime
    created_at: datetime
    payment: PaymentInfo | None = None
    paid: bool = False  # payment.succeeded was seen
    payment_refunded: bool = False  # payment.refunded was seen
    refund_id: str | None = None  # the refund this service asked for
    tickets: tuple[Ticket, ...] = field(default=())
    reason: str = ""
    version: int = 0

    @property
    def standing(self) -> bool:
        return not self.seat_ids

    def ticket_seats(self) -> list[str]:
        """One ticket per seat; a standing booking gets `quantity` tickets for its section."""
        if self.seat_ids:
            return list(self.seat_ids)
        return [self.section_id or ""] * self.quantity

    def may_become(self, status: Status) -> bool:
        return status == self.status or status in TRANSITIONS[self.status]

    def evolve(self, **changes: Any) -> Booking:
        """The next version of the booking; every change of status is checked here."""
        status = changes.get("status", self.status)
        if not self.may_become(status):
            raise IllegalTransition(f"booking {self.booking_id}: {self.status} → {status}")
        return replace(self, **changes, version=self.version + 1)

    def to_item(self) -> dict[str, Any]:
        return {
            "booking_id": self.booking_id,
            "kind": "booking",
            "user_id": self.user_id,
            "event_id": self.event_id,
            "hold_id": self.hold_id,
            "seat_ids": list(self.seat_ids),
            "section_id": self.section_id,
            "quantity": self.quantity,
            "status": self.status,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "hold_expires_at": self.hold_expires_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
            "payment": self.payment.as_dict() if self.payment else None,
            "paid": self.paid,
            "payment_refunded": self.payment_refunded,
            "refund_id": self.refund_id,
            "tickets": [ticket.model_dump() for ticket in self.tickets],
            "reason": self.reason,
            "version": self.version,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Booking:
        payment = item.get("payment")
        return cls(
            booking_id=item["booking_id"],
            user_id=item["user_id"],
            event_id=item["event_id"],
            hold_id=item["hold_id"],
            seat_ids=tuple(item.get("seat_ids") or ()),
            section_id=item.get("section_id"),
            quantity=_int(item["quantity"]),
            status=item["status"],
            amount_cents=_int(item["amount_cents"]),
            currency=item["currency"],
            hold_expires_at=datetime.fromisoformat(item["hold_expires_at"]),
            created_at=datetime.fromisoformat(item["created_at"]),
            payment=PaymentInfo(**payment) if payment else None,
            paid=bool(item.get("paid")),
            payment_refunded=bool(item.get("payment_refunded")),
            refund_id=item.get("refund_id"),
            tickets=tuple(Ticket(**ticket) for ticket in item.get("tickets") or ()),
            reason=item.get("reason") or "",
            version=_int(item.get("version", 0)),
        )

    def public(self) -> dict[str, Any]:
        """API.md's `Booking` (schemas.BookingOut)."""
        return {
            "booking_id": self.booking_id,
            "user_id": self.user_id,
            "event_id": self.event_id,
            "seat_ids": list(self.seat_ids),
            "section_id": self.section_id,
            "quantity": self.quantity,
            "status": self.status,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "hold_expires_at": self.hold_expires_at,
            "created_at": self.created_at,
            "reason": self.reason or None,
            "payment": self.payment.as_dict() if self.payment else None,
        }

    @property
    def unsettled(self) -> bool:
        """Its seats may be sold to it any moment: awaiting payment, or paid and not yet confirmed
        or refunded (inventory must not give such seats back: see its reconciler)."""
        if self.status == "pending_payment":
            return True
        undecided = self.status not in ("confirmed", "refunded") and self.refund_id is None
        return self.paid and undecided and not self.payment_refunded

    def live_hold(self, now: datetime) -> dict[str, Any] | None:
        """The hold this booking awaits its payment on, as inventory restores it after a loss."""
        if self.status != "pending_payment" or self.paid or self.hold_expires_at <= now:
            return None
        return {
            "hold_id": self.hold_id,
            "booking_id": self.booking_id,
            "user_id": self.user_id,
            "seat_ids": list(self.seat_ids),
            "section_id": self.section_id,
            "quantity": self.quantity,
            "expires_at": self.hold_expires_at,
        }

    def claim(self) -> dict[str, Any]:
        """What its hold held, for inventory to confirm it by if the hold's record was lost."""
        return {
            "user_id": self.user_id,
            "seat_ids": list(self.seat_ids),
            "section_id": self.section_id,
            "quantity": self.quantity,
        }

    def sold_entry(self) -> dict[str, Any]:
        return {
            "booking_id": self.booking_id,
            "seat_ids": list(self.seat_ids),
            "section_id": self.section_id,
            "quantity": self.quantity,
        }


# The attributes a booking's public form is made of: a listing reads only these
# (ProjectionExpression), not the tickets and the saga's own fields.
PUBLIC_ATTRIBUTES = (
    "booking_id",
    "user_id",
    "event_id",
    "seat_ids",
    "section_id",
    "quantity",
    "status",
    "amount_cents",
    "currency",
    "hold_expires_at",
    "created_at",
    "reason",
    "payment",
)


def public_of_item(item: dict[str, Any]) -> dict[str, Any]:
    """`Booking.public()` straight from a stored item's PUBLIC_ATTRIBUTES (a page of 20 would
    otherwise build 20 Bookings, with their tickets, to show a third of their fields)."""
    payment = item.get("payment")
    return {
        "booking_id": item["booking_id"],
        "user_id": item["user_id"],
        "event_id": item["event_id"],
        "seat_ids": list(item.get("seat_ids") or ()),
        "section_id": item.get("section_id"),
        "quantity": _int(item["quantity"]),
        "status": item["status"],
        "amount_cents": _int(item["amount_cents"]),
        "currency": item["currency"],
        "hold_expires_at": datetime.fromisoformat(item["hold_expires_at"]),
        "created_at": datetime.fromisoformat(item["created_at"]),
        "reason": item.get("reason") or None,
        "payment": PaymentInfo(**payment).as_dict() if payment else None,
    }


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | Decimal | str) else 0
