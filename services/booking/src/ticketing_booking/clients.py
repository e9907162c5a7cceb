"""The services the saga calls, as small clients over the shared ServiceClient. Each method
returns data or a definite answer; a 5xx or an unreachable peer raises (the caller retries:
a request fails with 503, a message is redelivered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ticketing_common.http_client import ServiceClient, ServiceResponse, ServiceUnavailable
from ticketing_common.problems import Problem, ProblemType

from ticketing_booking.models import Booking, PaymentInfo

CHANGES_PAGE = 200


def _slug(response: ServiceResponse) -> str:
    body = response.body if isinstance(response.body, dict) else {}
    kind = str(body.get("type", ""))
    return kind.rsplit("/", 1)[-1] if "/" in kind else kind


def _unexpected(service: str, response: ServiceResponse) -> Problem:
    if response.status >= 500:
        return ServiceUnavailable(service, f"answered {response.status}")
    return Problem(
        502,
        f"The {service} service gave an unexpected answer ({response.status})",
        slug=ProblemType.DEPENDENCY_UNAVAILABLE,
        service=service,
    )


@dataclass(frozen=True)
class ConfirmOutcome:
    confirmed: bool
    reclaimed: bool = False
    refusal: str = ""  # seats-taken | hold-released | hold-confirmed-elsewhere | hold-unknown


class InventoryClient:
    def __init__(self, services: ServiceClient, base_url: str) -> None:
        self.services = services
        self.base = base_url.rstrip("/")

    async def hold(self, hold_id: str) -> dict[str, Any] | None:
        response = await self.services.call(
            "inventory", "GET", f"{self.base}/internal/holds/{hold_id}"
        )
        if response.status == 404:
            return None
        if not response.ok:
            raise _unexpected("inventory", response)
        body: dict[str, Any] = response.body
        return body

    async def confirm(self, booking: Booking) -> ConfirmOutcome:
        response = await self.services.call(
            "inventory",
            "POST",
            f"{self.base}/internal/holds/{booking.hold_id}/confirm",
            # The claim lets inventory confirm a hold whose record it lost with its cache.
            json={"booking_id": booking.booking_id, "claim": booking.claim()},
        )
        if response.ok:
            return ConfirmOutcome(True, reclaimed=bool(response.body.get("reclaimed")))
        if response.status == 404:
            return ConfirmOutcome(False, refusal="hold-unknown")
        if response.status == 409:
            return ConfirmOutcome(False, refusal=_slug(response) or "conflict")
        raise _unexpected("inventory", response)

    async def release_hold(self, hold_id: str) -> None:
        response = await self.services.call(
            "inventory", "POST", f"{self.base}/internal/holds/{hold_id}/release"
        )
        if not response.ok and response.status != 404:
            raise _unexpected("inventory", response)

    async def release_sold(self, booking: Booking, seat_ids: list[str] | None = None) -> None:
        seats = list(booking.seat_ids) if seat_ids is None else seat_ids
        response = await self.services.call(
            "inventory",
            "POST",
            f"{self.base}/internal/events/{booking.event_id}/release-sold",
            json={
                "booking_id": booking.booking_id,
                "seat_ids": seats,
                "section_id": booking.section_id,
                "quantity": len(seats) if booking.seat_ids else booking.quantity,
            },
        )
        if not response.ok:
            raise _unexpected("inventory", response)

    async def availability(self, event_id: str) -> dict[str, Any] | None:
        """Available / held / sold per section; None when inventory never had the event (a
        draft)."""
        response = await self.services.call(
            "inventory", "GET", f"{self.base}/api/v1/inventory/events/{event_id}/availability"
        )
        if response.status == 404:
            return None
        if not response.ok:
            raise _unexpected("inventory", response)
        body: dict[str, Any] = response.body
        return body

    async def capacity(self, event_id: str, section_id: str) -> int:
        response = await self.services.call(
            "inventory", "GET", f"{self.base}/api/v1/inventory/events/{event_id}/availability"
        )
        if not response.ok:
            raise _unexpected("inventory", response)
        for section in response.body.get("sections", []):
            if section.get("section_id") == section_id:
                return int(section["capacity"])
        raise Problem(
            502,
            f"inventory does not know section {section_id!r}",
            slug=ProblemType.DEPENDENCY_UNAVAILABLE,
        )


class EventsClient:
    def __init__(self, services: ServiceClient, base_url: str) -> None:
        self.services = services
        self.base = base_url.rstrip("/")

    async def quote(self, hold: dict[str, Any]) -> dict[str, Any]:
        response = await self.services.call(
            "events",
            "POST",
            f"{self.base}/internal/events/{hold['event_id']}/quote",
            json={
                "seat_ids": hold.get("seat_ids") or [],
                "section_id": hold.get("section_id"),
                "quantity": hold.get("quantity") or len(hold.get("seat_ids") or []),
            },
        )
        if response.status in (404, 409, 422):
            raise Problem(
                409,
                "The event cannot be booked for this hold",
                slug=ProblemType.NOT_BOOKABLE,
                reason=_slug(response),
            )
        if not response.ok:
            raise _unexpected("events", response)
        body: dict[str, Any] = response.body
        return body

    async def organizer_of(self, event_id: str) -> str | None:
        response = await self.services.call(
            "events", "GET", f"{self.base}/internal/events/{event_id}"
        )
        if response.status == 404:
            return None
        if not response.ok:
            raise _unexpected("events", response)
        organizer: str | None = response.body.get("organizer_id")
        return organizer


class PaymentClient:
    def __init__(self, services: ServiceClient, base_url: str) -> None:
        self.services = services
        self.base = base_url.rstrip("/")

    async def create(self, booking: Booking) -> PaymentInfo:
        response = await self.services.call(
            "payment",
            "POST",
            f"{self.base}/internal/payments",
            json={
                "booking_id": booking.booking_id,
                "user_id": booking.user_id,
                "amount_cents": booking.amount_cents,
                "currency": booking.currency,
            },
        )
        if not response.ok:
            raise _unexpected("payment", response)
        body = response.body
        return PaymentInfo(body["payment_id"], body["provider"], body["client_secret"] or "")

    async def refund(self, payment_id: str, reason: str) -> str:
        response = await self.services.call(
            "payment",
            "POST",
            f"{self.base}/internal/payments/{payment_id}/refund",
            json={"reason": reason[:255]},
        )
        if not response.ok:
            raise _unexpected("payment", response)
        refund_id: str = response.body["refund_id"]
        return refund_id

    async def state(self, payment_id: str) -> dict[str, Any]:
        """The payment as payment's store has it (status, refund)."""
        response = await self.services.call(
            "payment", "GET", f"{self.base}/internal/payments/{payment_id}"
        )
        if not response.ok:
            raise _unexpected("payment", response)
        body: dict[str, Any] = response.body
        return body

    async def changes(
        self, since: datetime, until: datetime, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of payments in the order they changed, after `since` up to `until`."""
        query = urlencode(
            {"since": since.isoformat(), "until": until.isoformat(), "limit": CHANGES_PAGE}
            | ({"cursor": cursor} if cursor else {})
        )
        response = await self.services.call(
            "payment", "GET", f"{self.base}/internal/payments?{query}"
        )
        if not response.ok:
            raise _unexpected("payment", response)
        return list(response.body["items"]), response.body.get("next_cursor")


class AuthClient:
    def __init__(self, services: ServiceClient, base_url: str) -> None:
        self.services = services
        self.base = base_url.rstrip("/")

    async def users(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        """{user_id: {email, name, ...}} for the ids auth knows, asked 500 at a time."""
        found: dict[str, dict[str, Any]] = {}
        unique = sorted(set(user_ids))
        for start in range(0, len(unique), 500):
            response = await self.services.call(
                "auth",
                "POST",
                f"{self.base}/internal/users/lookup",
                json={"ids": unique[start : start + 500]},
            )
            if not response.ok:
                raise _unexpected("auth", response)
            found.update({user["id"]: user for user in response.body["users"]})
        return found
