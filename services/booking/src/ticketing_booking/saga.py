"""The booking saga: every decision about a booking, driven by requests, facts and the clock.

It converges because every step is idempotent and re-triggered until it sticks:
- calls to other services come first (inventory confirm/release, payment create/refund are
  idempotent per booking), the booking's change last (a conditional transaction with its
  facts); a crash in between leaves the triggering message unacknowledged, the bus delivers it
  again and the step is repeated;
- when two triggers race, one transaction wins; the other re-reads the booking and decides again.

The outcomes: a paid booking ends `confirmed` (seats claimed durably, tickets issued) or its
payment is refunded (`failed`, `refunded`); an unpaid one ends `cancelled`, `expired` or `failed`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ticketing_common.contracts import PaymentState
from ticketing_common.facts import (
    BookingCancelled,
    BookingConfirmed,
    BookingExpired,
    BookingFact,
    BookingFailed,
    BookingRefunded,
    EventCancelled,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from ticketing_common.peers import PeerUnavailable
from ticketing_common.problems import ProblemType, conflict, not_found
from ticketing_common.security import Principal

from ticketing_booking import store as errors
from ticketing_booking.clients import EventsClient, InventoryClient, PaymentClient
from ticketing_booking.models import Booking, PaymentInfo
from ticketing_booking.store import BookingStore, Standing
from ticketing_booking.tickets import TicketSigner

log = logging.getLogger(__name__)

MAX_RACES = 10
BOOKING_IDS = uuid.UUID("5d0c6e8e-3b8a-4f6e-9a57-0b9f0f3c1a2e")  # namespace of hold → booking


def booking_id_of(hold_id: str) -> str:
    """The booking id of a hold: the same for every request that books it."""
    return uuid.uuid5(BOOKING_IDS, hold_id).hex


def fact_of(kind: type[BookingFact], booking: Booking, **extra: Any) -> BookingFact:
    return kind(
        booking_id=booking.booking_id,
        user_id=booking.user_id,
        event_id=booking.event_id,
        seat_ids=list(booking.seat_ids),
        amount_cents=booking.amount_cents,
        currency=booking.currency,
        reason=booking.reason,
        **extra,
    )


class BookingSaga:
    def __init__(
        self,
        store: BookingStore,
        inventory: InventoryClient,
        events: EventsClient,
        payments: PaymentClient,
        signer: TicketSigner,
        *,
        expiry_grace_s: float = 30.0,
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.events = events
        self.payments = payments
        self.signer = signer
        self.expiry_grace = timedelta(seconds=expiry_grace_s)

    # --- requests ---------------------------------------------------------------------------

    async def book(self, user: Principal, hold_id: str) -> tuple[Booking, bool]:
        """A pending booking for the caller's live hold, with its payment. Booking the same hold
        again returns the booking already made from it (created=False)."""
        hold = await self.inventory.hold(hold_id)
        if hold is None:
            raise not_found("Hold", hold_id)
        if hold.user_id != user.user_id:
            raise conflict("This hold belongs to someone else", ProblemType.HOLD_NOT_YOURS)
        expires_at = hold.expires_at
        if hold.status != "held" or expires_at <= datetime.now(UTC):
            # No longer bookable; but if it was booked, booking it again answers that booking.
            existing = await self.store.booking_for_hold(hold_id)
            if existing:
                return await self._existing(user, existing), False
            raise conflict(
                f"The hold is {hold.status if hold.status != 'held' else 'expired'}",
                ProblemType.HOLD_EXPIRED,
            )
        # A live hold booked already (a retried request) is found by the create below failing.
        price = await self.events.price(hold)
        seat_ids = tuple(hold.seat_ids)
        booking = Booking(
            booking_id=booking_id_of(hold_id),
            user_id=user.user_id,
            event_id=hold.event_id,
            hold_id=hold_id,
            seat_ids=seat_ids,
            section_id=hold.section_id,
            quantity=hold.quantity or len(seat_ids),
            status="pending_payment",
            amount_cents=price.amount_cents,
            currency=price.currency,
            hold_expires_at=expires_at,
            created_at=datetime.now(UTC),
        )
        # The payment first, then the booking with it in one write: payment makes one payment
        # per booking id, and the id is the hold's, so a retry or a racer for the same hold is
        # given the same payment, and no booking is ever without one.
        booking = replace(booking, payment=await self.payments.create(booking))
        try:
            await self.store.create(booking)
        except errors.HoldAlreadyBooked:  # a concurrent request for the same hold won
            winner = await self.store.booking_for_hold(hold_id)
            assert winner is not None
            return await self._existing(user, winner), False
        return booking, True

    async def _existing(self, user: Principal, booking_id: str) -> Booking:
        booking = await self.store.get(booking_id)
        if booking is None or booking.user_id != user.user_id:
            raise conflict("This hold is already booked", ProblemType.HOLD_BOOKED)
        return booking

    async def visible(self, user: Principal, booking_id: str) -> Booking:
        """The booking as its owner (or an admin) reads it; a confirmed one may come from
        memory (store.py)."""
        booking = await self.store.get(booking_id, cached=True)
        # Another customer's booking answers like a missing one: ids are not for probing.
        if booking is None or not (user.is_admin or booking.user_id == user.user_id):
            raise not_found("Booking", booking_id)
        return booking

    async def cancel(self, user: Principal, booking_id: str) -> Booking:
        await self.visible(user, booking_id)
        booking = await self._settle(booking_id, self._cancel)
        if booking is None:
            raise not_found("Booking", booking_id)
        return booking

    async def _cancel(self, booking: Booking) -> Booking:
        if booking.status in ("cancelled", "refunded"):
            return booking
        if booking.status == "confirmed":
            return await self._refund_confirmed(booking, "cancelled by the customer")
        if booking.status == "pending_payment":
            if booking.paid:
                raise conflict(
                    "The payment has just arrived and is being confirmed; try again shortly",
                    ProblemType.PAYMENT_IN_PROGRESS,
                )
            return await self._cancel_unpaid(booking, "cancelled by the customer")
        raise conflict(
            f"A booking that is {booking.status} cannot be cancelled", ProblemType.NOT_CANCELLABLE
        )

    async def refund(self, booking_id: str, reason: str) -> Booking | None:
        """An organizer's or admin's refund of a paid booking (the money back, the seats back on
        sale, the tickets revoked). Refunding again returns the refunded booking; anything but a
        confirmed booking is a 409. None when there is no such booking."""

        async def step(booking: Booking) -> Booking:
            if booking.status == "refunded":
                return booking
            if booking.status != "confirmed":
                raise conflict(
                    f"Only a confirmed booking can be refunded; this one is {booking.status}",
                    ProblemType.NOT_REFUNDABLE,
                    booking_status=booking.status,
                )
            return await self._refund_confirmed(booking, reason)

        return await self._settle(booking_id, step)

    # --- facts ------------------------------------------------------------------------------

    async def payment_succeeded(self, fact: PaymentSucceeded) -> None:
        payment = PaymentInfo(fact.payment_id, fact.provider, "")
        await self._settle(fact.booking_id, lambda booking: self._paid(booking, payment))

    async def _paid(self, booking: Booking, payment: PaymentInfo) -> Booking:
        if booking.payment_refunded or booking.refund_id:
            return booking  # the money went back already
        if not booking.paid:
            booking = await self.store.save(
                booking, booking.evolve(paid=True, payment=booking.payment or payment)
            )
        if booking.status != "confirmed" and booking.may_become("confirmed"):
            return await self._confirm(booking)
        if booking.status == "cancelled":
            return await self._refund_unconfirmed(
                booking, "refunded", "the booking was cancelled before its payment arrived", True
            )
        return booking  # confirmed (a redelivery)

    async def _confirm(self, booking: Booking) -> Booking:
        # A cancelled event is not read first: the transaction below checks it (and inventory
        # is given the seats back), so the common case saves a read.
        outcome = await self.inventory.confirm(booking)
        if not outcome.confirmed:
            if await self.store.event_cancelled(booking.event_id):
                return await self._refund_unconfirmed(
                    booking, "refunded", "the event was cancelled"
                )
            return await self._refund_unconfirmed(
                booking, "failed", f"the seats could not be sold ({outcome.refusal})"
            )
        standing = None
        if booking.standing and booking.section_id:
            capacity = await self.inventory.capacity(booking.event_id, booking.section_id)
            standing = Standing(booking.section_id, booking.quantity, capacity)
        confirmed = booking.evolve(
            status="confirmed",
            tickets=self.signer.issue(booking),
            reason="re-claimed after the hold expired" if outcome.reclaimed else "",
        )
        fact = fact_of(BookingConfirmed, confirmed, tickets=list(confirmed.tickets))
        try:
            return await self.store.confirm(booking, confirmed, [fact], standing)
        except errors.SeatsClaimed as exc:
            log.error(
                "durable seat claims refused a confirmed hold (inventory lost state?)",
                extra={"booking_id": booking.booking_id, "seats": exc.seat_ids},
            )
            free = [seat for seat in booking.seat_ids if seat not in exc.seat_ids]
            reason = "the seats were sold already"
            failed = await self._refund_unconfirmed(booking, "failed", reason)
            await self._give_back(booking, free)
            return failed
        except errors.SectionSoldOut:
            failed = await self._refund_unconfirmed(booking, "failed", "the section is sold out")
            await self._give_back(booking)
            return failed
        except errors.EventCancelled:
            reason = "the event was cancelled"
            refunded = await self._refund_unconfirmed(booking, "refunded", reason)
            await self._give_back(booking)
            return refunded

    async def payment_failed(self, fact: PaymentFailed) -> None:
        await self._settle(fact.booking_id, lambda booking: self._payment_failed(booking, fact))

    async def _payment_failed(self, booking: Booking, fact: PaymentFailed) -> Booking:
        if booking.status != "pending_payment" or booking.paid:
            return booking  # too late to matter: a success or a decision came first
        failed = booking.evolve(status="failed", reason=fact.reason or "the payment failed")
        failed = await self.store.save(booking, failed, [fact_of(BookingFailed, failed)])
        await self._release_hold(failed)
        return failed

    async def payment_refunded(self, fact: PaymentRefunded) -> None:
        await self._settle(fact.booking_id, lambda booking: self._payment_refunded(booking, fact))

    async def _payment_refunded(self, booking: Booking, fact: PaymentRefunded) -> Booking:
        if booking.payment_refunded:
            return booking
        if booking.refund_id is not None or booking.status in ("cancelled", "expired", "failed"):
            # Our own refund completing, or a booking that holds nothing: bookkeeping only.
            return await self.store.save(booking, booking.evolve(payment_refunded=True))
        # The fact carries the reason the refund was asked for: when it is our own refund (an
        # organizer's, say) settling the booking before the request that asked for it does, the
        # organizer's reason is the one kept.
        reason = fact.reason or "refunded at the payment provider"
        refunded = booking.evolve(
            status="refunded",
            paid=True,
            payment_refunded=True,
            refund_id=fact.refund_id,
            reason=reason,
        )
        facts = [fact_of(BookingRefunded, refunded)]
        if booking.status == "confirmed":
            refunded = await self.store.release(booking, refunded, facts, self._standing(booking))
            await self._give_back(booking)
            return refunded
        refunded = await self.store.save(booking, refunded, facts)  # pending, or refunded
        if booking.status == "pending_payment":
            await self._release_hold(refunded)
        return refunded

    async def event_cancelled(self, fact: EventCancelled) -> None:
        # First close the door (no confirmation may commit after this), then empty the room.
        await self.store.mark_event_cancelled(fact.event_id)
        for booking in await self.store.all_for_event(fact.event_id):
            await self._settle(booking.booking_id, self._cancel_for_event)

    async def _cancel_for_event(self, booking: Booking) -> Booking:
        reason = "the event was cancelled"
        if booking.status == "confirmed":
            return await self._refund_confirmed(booking, reason)
        if booking.status == "pending_payment":
            if booking.paid:
                return await self._refund_unconfirmed(booking, "refunded", reason, True)
            return await self._cancel_unpaid(booking, reason)
        return booking

    # --- reconciliation: payment's store is the truth about money --------------------------

    async def reconcile_payment(self, payment: PaymentState) -> str | None:
        """Bring a booking in line with its payment's state in payment's store, as the lost or
        dead-lettered fact would have. Returns the fact it stood in for, or None if the booking
        agreed already."""
        booking = await self.store.get(payment.booking_id)
        if booking is None:
            return None
        status = payment.status
        money_kept = booking.refund_id is None and not booking.payment_refunded
        if status == "succeeded" and booking.status != "confirmed" and money_kept:
            await self.payment_succeeded(
                PaymentSucceeded(
                    payment_id=payment.payment_id,
                    booking_id=booking.booking_id,
                    amount_cents=payment.amount_cents,
                    currency=payment.currency,
                    provider=payment.provider,
                )
            )
            return "payment.succeeded"
        if status == "refunded" and not booking.payment_refunded and payment.refund_id:
            await self.payment_refunded(
                PaymentRefunded(
                    payment_id=payment.payment_id,
                    booking_id=booking.booking_id,
                    refund_id=payment.refund_id,
                    amount_cents=payment.amount_cents,
                    currency=payment.currency,
                )
            )
            return "payment.refunded"
        if status == "failed" and booking.status == "pending_payment" and not booking.paid:
            await self.payment_failed(
                PaymentFailed(
                    payment_id=payment.payment_id,
                    booking_id=booking.booking_id,
                    reason=payment.failure_reason or "",
                )
            )
            return "payment.failed"
        return None

    # --- the clock --------------------------------------------------------------------------

    async def expire_due(self) -> int:
        """Pending bookings whose hold ran out (plus grace) → expired, unless their payment
        succeeded (then they are confirmed or refunded, even if that fact never arrived).
        Returns how many expired."""
        now = datetime.now(UTC)
        expired = 0
        for booking_id in await self.store.due_expiries(now - self.expiry_grace):
            try:
                booking = await self._settle(booking_id, lambda b: self._expire(b, now))
            except Exception as exc:  # one booking's trouble (a peer down) must not stop the rest
                log.warning(
                    "could not settle a due booking; next round",
                    extra={"booking_id": booking_id, "error": repr(exc)},
                )
                continue
            if booking is None:
                await self.store.drop_expiry(booking_id)
            elif booking.status == "expired":
                expired += 1
        return expired

    async def _expire(self, booking: Booking, now: datetime) -> Booking:
        if booking.status != "pending_payment":
            await self.store.drop_expiry(booking.booking_id)
            return booking
        if booking.hold_expires_at + self.expiry_grace > now:
            return booking  # the deadline moved
        if booking.paid:
            # Paid but not confirmed by now: the confirmation stalled (its fact dead-lettered, or
            # lost with the bus). Drive it again.
            assert booking.payment is not None
            return await self._paid(booking, booking.payment)
        if booking.payment is not None:
            # Never expire a booking whose money arrived: ask payment's store, not only the bus.
            payment = await self.payments.state(booking.payment.payment_id)
            if payment.status in ("succeeded", "refunded"):
                await self.reconcile_payment(payment)
                current = await self.store.get(booking.booking_id)
                assert current is not None
                return current
        expired = booking.evolve(status="expired", reason="the hold expired before the payment")
        # The hold is not released: it is free in inventory already, and keeping it lets a late
        # payment re-claim the seats if nobody took them.
        return await self.store.save(booking, expired, [fact_of(BookingExpired, expired)])

    # --- steps ------------------------------------------------------------------------------

    async def _settle(
        self, booking_id: str, step: Callable[[Booking], Awaitable[Booking]]
    ) -> Booking | None:
        """Run `step` on the current booking; if it lost a race, re-read and run it again."""
        for _ in range(MAX_RACES):
            booking = await self.store.get(booking_id)
            if booking is None:
                log.warning("no such booking", extra={"booking_id": booking_id})
                return None
            try:
                return await step(booking)
            except errors.Conflict:
                continue
        raise RuntimeError(f"booking {booking_id} kept changing under us")

    async def _cancel_unpaid(self, booking: Booking, reason: str) -> Booking:
        cancelled = booking.evolve(status="cancelled", reason=reason)
        cancelled = await self.store.save(
            booking, cancelled, [fact_of(BookingCancelled, cancelled)]
        )
        await self._release_hold(cancelled)
        return cancelled

    async def _refund_unconfirmed(
        self, booking: Booking, status: str, reason: str, release_sold: bool = False
    ) -> Booking:
        """Give the money back for a booking that did not get its seats. `release_sold` when
        inventory may have sold them to it (a confirmation that lost a race)."""
        refund_id = booking.refund_id
        if booking.paid and booking.payment and refund_id is None:
            refund_id = await self.payments.refund(booking.payment.payment_id, reason)
        after = booking.evolve(status=status, refund_id=refund_id, reason=reason)
        kind = BookingFailed if status == "failed" else BookingRefunded
        after = await self.store.save(booking, after, [fact_of(kind, after)])
        if release_sold:
            await self._give_back(booking)
        return after

    async def _refund_confirmed(self, booking: Booking, reason: str) -> Booking:
        """Money back, then the booking `refunded` with its durable claims gone (its tickets are
        void), whatever inventory's state; inventory sells the seats again when it can."""
        assert booking.payment is not None
        refund_id = await self.payments.refund(booking.payment.payment_id, reason)
        refunded = booking.evolve(status="refunded", refund_id=refund_id, reason=reason)
        refunded = await self.store.release(
            booking, refunded, [fact_of(BookingRefunded, refunded)], self._standing(booking)
        )
        await self._give_back(booking)
        return refunded

    async def _give_back(self, booking: Booking, seat_ids: list[str] | None = None) -> None:
        """Inventory sells a booking's seats again. The booking's change is durable already: if
        inventory cannot be told now (down, rebuilding), its reconciler releases them, since
        booking's claims no longer hold them."""
        try:
            await self.inventory.release_sold(booking, seat_ids)
        except PeerUnavailable as exc:
            log.warning(
                "inventory not told of seats given back; its reconciler will release them",
                extra={"booking_id": booking.booking_id, "error": str(exc)},
            )

    def _standing(self, booking: Booking) -> Standing | None:
        if booking.standing and booking.section_id:
            return Standing(booking.section_id, booking.quantity, 0)
        return None

    async def _release_hold(self, booking: Booking) -> None:
        """Seats back on sale now; if this fails the hold's TTL frees them anyway."""
        try:
            await self.inventory.release_hold(booking.hold_id)
        except PeerUnavailable as exc:
            log.warning(
                "hold not released; it will expire",
                extra={"hold_id": booking.hold_id, "error": str(exc)},
            )
