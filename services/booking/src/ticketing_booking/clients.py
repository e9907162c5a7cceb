"""The services booking calls, one client per peer, sending the commands of
`ticketing_common.contracts`. A definite answer comes back typed; a peer that fails raises
PeerUnavailable (a request fails with 503, a message is redelivered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ticketing_common import contracts
from ticketing_common.contracts import (
    Claim,
    ConfirmIn,
    Contact,
    HoldRecord,
    PaymentCreated,
    PaymentIn,
    PaymentState,
    RefundIn,
    SectionAvailability,
    SoldIn,
    UserIds,
)
from ticketing_common.http_client import ServiceClient
from ticketing_common.lru import Lru
from ticketing_common.peers import PeerClient, PeerRefused, PeerUnavailable
from ticketing_common.pricing import Pricing, Unpriced
from ticketing_common.problems import Problem, ProblemType

from ticketing_booking.models import Booking, PaymentInfo

CHANGES_PAGE = 200
USERS_PER_LOOKUP = 500


@dataclass(frozen=True)
class ConfirmOutcome:
    confirmed: bool
    reclaimed: bool = False
    refusal: str = ""  # seats-taken | hold-released | hold-confirmed-elsewhere | hold-unknown


class InventoryClient(PeerClient):
    def __init__(
        self,
        services: ServiceClient,
        base_url: str,
        *,
        timeout_s: float | None = None,
        capacities_kept: int = 4096,
    ) -> None:
        super().__init__(services, base_url, timeout_s=timeout_s)
        self._capacities: Lru[tuple[str, str], int] = Lru(capacities_kept)

    async def hold(self, hold_id: str) -> HoldRecord | None:
        try:
            return await self.send(contracts.HOLD, hold_id=hold_id)
        except PeerRefused:  # 404: no such hold
            return None

    async def confirm(self, booking: Booking) -> ConfirmOutcome:
        # The claim lets inventory confirm a hold whose record it lost with its cache.
        body = ConfirmIn(booking_id=booking.booking_id, claim=Claim(**booking.claim()))
        try:
            answer = await self.send(contracts.CONFIRM_HOLD, body, hold_id=booking.hold_id)
        except PeerRefused as refused:
            if refused.status == 404:
                return ConfirmOutcome(False, refusal="hold-unknown")
            return ConfirmOutcome(False, refusal=refused.slug or "conflict")
        return ConfirmOutcome(True, reclaimed=answer.reclaimed)

    async def release_hold(self, hold_id: str) -> None:
        try:
            await self.send(contracts.RELEASE_HOLD, hold_id=hold_id)
        except PeerRefused:  # 404: gone already
            return

    async def release_sold(self, booking: Booking, seat_ids: list[str] | None = None) -> None:
        seats = list(booking.seat_ids) if seat_ids is None else seat_ids
        body = SoldIn(
            booking_id=booking.booking_id,
            seat_ids=seats,
            section_id=booking.section_id,
            quantity=len(seats) if booking.seat_ids else booking.quantity,
        )
        await self.send(contracts.RELEASE_SOLD, body, event_id=booking.event_id)

    async def availability(self, event_id: str) -> list[SectionAvailability] | None:
        """Available / held / sold per section; None when inventory never had the event (a
        draft)."""
        try:
            return (await self.send(contracts.AVAILABILITY, event_id=event_id)).sections
        except PeerRefused:
            return None

    async def capacity(self, event_id: str, section_id: str) -> int:
        """A standing section's size, asked once per process: a published event's layout never
        changes (events replaces a layout only before it goes on sale, when nothing is booked),
        and every standing booking's confirmation needs it."""
        key = (event_id, section_id)
        capacity = self._capacities.get(key)
        if capacity is None:
            capacity = self._capacities.put(key, await self._ask_capacity(event_id, section_id))
        return capacity

    async def _ask_capacity(self, event_id: str, section_id: str) -> int:
        try:
            sections = (await self.send(contracts.AVAILABILITY, event_id=event_id)).sections
        except PeerRefused as refused:
            raise PeerUnavailable("inventory", "it does not know the event") from refused
        for section in sections:
            if section.section_id == section_id:
                return section.capacity
        raise PeerUnavailable("inventory", f"it does not know section {section_id!r}")


@dataclass(frozen=True)
class Price:
    amount_cents: int
    currency: str


class EventsClient(PeerClient):
    def __init__(
        self,
        services: ServiceClient,
        base_url: str,
        *,
        timeout_s: float | None = None,
        pricings_kept: int = 4096,
    ) -> None:
        super().__init__(services, base_url, timeout_s=timeout_s)
        self._pricings: Lru[str, Pricing] = Lru(pricings_kept)

    async def price(self, hold: HoldRecord) -> Price:
        """What the hold's places cost, at the event's prices: asked of events once per
        published event (its prices never change after publishing; a draft's are asked again)."""
        pricing = self._pricings.get(hold.event_id)
        if pricing is None:
            try:
                event = await self.send(contracts.EVENT, event_id=hold.event_id)
            except PeerRefused as refused:  # 404: no such event
                raise _not_bookable(refused.slug or "unknown_event") from refused
            pricing = Pricing.of(event)
            if event.status != "draft":
                self._pricings.put(hold.event_id, pricing)
        try:
            amount = pricing.amount_cents(
                hold.seat_ids, hold.section_id, hold.quantity or len(hold.seat_ids)
            )
        except Unpriced as unpriced:
            raise _not_bookable("unpriced_section") from unpriced
        return Price(amount, pricing.currency)

    async def organizer_of(self, event_id: str) -> str | None:
        try:
            return (await self.send(contracts.EVENT, event_id=event_id)).organizer_id
        except PeerRefused:  # 404: no such event
            return None


def _not_bookable(reason: str) -> Problem:
    return Problem(
        409,
        "The event cannot be booked for this hold",
        slug=ProblemType.NOT_BOOKABLE,
        reason=reason,
    )


class PaymentClient(PeerClient):
    async def create(self, booking: Booking) -> PaymentInfo:
        body = PaymentIn(
            booking_id=booking.booking_id,
            user_id=booking.user_id,
            amount_cents=booking.amount_cents,
            currency=booking.currency,
        )
        created: PaymentCreated = await self.send(contracts.CREATE_PAYMENT, body)
        return PaymentInfo(created.payment_id, created.provider, created.client_secret or "")

    async def refund(self, payment_id: str, reason: str) -> str:
        body = RefundIn(reason=reason[:255])
        return (await self.send(contracts.REFUND, body, payment_id=payment_id)).refund_id

    async def state(self, payment_id: str) -> PaymentState:
        """The payment as payment's store has it (status, refund)."""
        return await self.send(contracts.PAYMENT, payment_id=payment_id)

    async def changes(
        self, since: datetime, until: datetime, cursor: str | None
    ) -> tuple[list[PaymentState], str | None]:
        """One page of payments in the order they changed, after `since` up to `until`."""
        query: dict[str, str | int] = {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "limit": CHANGES_PAGE,
        }
        if cursor:
            query["cursor"] = cursor
        page = await self.send(contracts.PAYMENT_CHANGES, query=query)
        return page.items, page.next_cursor


class AuthClient(PeerClient):
    async def users(self, user_ids: list[str]) -> dict[str, Contact]:
        """{user_id: contact} for the ids auth knows, asked USERS_PER_LOOKUP at a time."""
        found: dict[str, Contact] = {}
        unique = sorted(set(user_ids))
        for start in range(0, len(unique), USERS_PER_LOOKUP):
            body = UserIds(ids=unique[start : start + USERS_PER_LOOKUP])
            found.update(
                {user.id: user for user in (await self.send(contracts.CONTACTS, body)).users}
            )
        return found
