"""Money converges without the bus: every `RECONCILE_INTERVAL_S` one booking replica reads the
payments that changed since its last pass from payment's store and brings each booking in line
(a `payment.succeeded` lost with Redis still confirms or refunds the booking; a refund made at the
provider still makes it `refunded`). Booking's expiry sweep asks payment too before it expires a
booking (saga.py), so a success older than this pass's window is not lost either.

The window trails the clock by `RECONCILE_SETTLE_S` (the bus has its chance first) and overlaps the
previous one by as much again (a transaction that committed late with an earlier timestamp is
still seen). A payment whose booking could not be settled (a peer down) is tried again on every
pass until it is.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from ticketing_common.contracts import PaymentState
from ticketing_common.redis import RedisClient

from ticketing_booking.clients import PaymentClient
from ticketing_booking.saga import BookingSaga

log = logging.getLogger(__name__)

LOCK_KEY = "booking:payment-reconciler"


class PaymentReconciler:
    def __init__(
        self,
        saga: BookingSaga,
        payments: PaymentClient,
        redis: RedisClient,
        *,
        interval_s: float,
        settle_s: float,
        lookback_s: float,
    ) -> None:
        self.saga = saga
        self.payments = payments
        self.redis = redis
        self.interval_s = interval_s
        self.settle = timedelta(seconds=settle_s)
        # Where the next pass starts; a new process looks this far back.
        self.since = datetime.now(UTC) - timedelta(seconds=lookback_s)
        self.retry: set[str] = set()  # payment ids whose booking did not settle yet

    async def run(self, app: FastAPI | None = None) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                # One replica per pass: the lock lapses before the next one.
                lease_ms = max(int(self.interval_s * 900), 1)
                if await self.redis.client.set(LOCK_KEY, "1", nx=True, px=lease_ms):
                    await self.once()
            except Exception as exc:
                log.warning("payment reconciliation pass failed", extra={"error": repr(exc)})

    async def once(self) -> dict[str, str]:
        """One pass; returns {booking_id: the fact it stood in for} for what it changed."""
        until = datetime.now(UTC) - self.settle
        changed: dict[str, str] = {}
        for payment_id in sorted(self.retry):
            await self._settle(await self.payments.state(payment_id), changed)
        cursor: str | None = None
        since = self.since - self.settle
        while True:
            items, cursor = await self.payments.changes(since, until, cursor)
            for payment in items:
                await self._settle(payment, changed)
            if not cursor:
                break
        self.since = until
        if changed:
            log.warning(
                "reconciled bookings with their payments (their facts were lost or late)",
                extra={"bookings": changed},
            )
        return changed

    async def _settle(self, payment: PaymentState, changed: dict[str, str]) -> None:
        payment_id = payment.payment_id
        try:
            done = await self.saga.reconcile_payment(payment)
        except Exception as exc:
            self.retry.add(payment_id)
            log.warning(
                "booking not reconciled with its payment yet; next pass",
                extra={"payment_id": payment_id, "error": repr(exc)},
            )
            return
        self.retry.discard(payment_id)
        if done is not None:
            changed[payment.booking_id] = done
