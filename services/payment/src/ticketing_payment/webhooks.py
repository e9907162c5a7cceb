"""Stripe webhook events → payment and refund records + payment facts (through the outbox).

Every event is verified (Stripe-Signature, with the stripe library), logged by event id (the
primary key makes a replay a no-op) and applied in one transaction with the facts it causes.
Stripe does not promise order, so each transition checks where the record is: a failure that
arrives after the success is stale; a refund that arrives before the success proves the success.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from stripe import SignatureVerificationError, WebhookSignature
from ticketing_common.database import Database
from ticketing_common.facts import PaymentFailed, PaymentRefunded, PaymentSucceeded
from ticketing_common.outbox import add_fact
from ticketing_common.problems import Problem, ProblemType

from ticketing_payment import repository as repo
from ticketing_payment.tables import outbox

log = logging.getLogger(__name__)

SOURCE = "payment"
REFUNDED_AT_PROVIDER = "refunded at the payment provider"  # a refund made in Stripe's dashboard
PAYABLE = ("creating", "requires_payment", "failed")  # states a success may still move on from


class Anomaly(Exception):
    """A genuine (signed) event that disagrees with the payment it names: it is not applied, and
    is kept for admins (GET /api/v1/payments/anomalies)."""

    def __init__(self, outcome: str, payment_id: str, detail: dict[str, Any]) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.payment_id = payment_id
        self.detail = detail


def _check_amount(payment: repo.Row, obj: dict[str, Any]) -> None:
    """An event that would make a payment succeed must be for its amount, in its currency."""
    amount, currency = obj.get("amount"), obj.get("currency")
    expected = {"amount_cents": payment["amount_cents"], "currency": payment["currency"]}
    received = {
        "amount_cents": amount,
        "currency": currency.upper() if isinstance(currency, str) else currency,
    }
    if received != expected:
        raise Anomaly(
            "amount-mismatch",
            payment["id"],
            {"payment_id": payment["id"], "expected": expected, "received": received},
        )


def _named(obj: dict[str, Any], key: str) -> tuple[str | None, str | None]:
    """The payment an event's object names: our id (its metadata), the provider's (`key`)."""
    metadata = obj.get("metadata") or {}
    provider_id = obj.get(key)
    return (
        metadata.get("payment_id") if isinstance(metadata, dict) else None,
        provider_id if isinstance(provider_id, str) else None,
    )


def _signed_at(header: str) -> int | None:
    """The `t=` timestamp of a Stripe-Signature header."""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


class StripeEventData(BaseModel):
    object: dict[str, Any]


class StripeEvent(BaseModel):
    id: str
    type: str
    created: int
    data: StripeEventData


class WebhookProcessor:
    def __init__(self, database: Database, secret: str, tolerance_s: int) -> None:
        self.database = database
        self.secret = secret
        self.tolerance_s = tolerance_s

    async def receive(self, payload: bytes, signature: str | None) -> str:
        """Verify, dedupe and apply one event. Returns what happened (for the log and the
        response); raises a 400 problem for a bad signature or a malformed event."""
        try:
            WebhookSignature.verify_header(payload, signature, self.secret, self.tolerance_s)
        except (SignatureVerificationError, UnicodeDecodeError) as exc:
            # stripe decodes the payload as UTF-8 before checking: bytes that are not text
            # cannot carry a valid signature either.
            log.warning("webhook signature refused", extra={"error": str(exc)})
            raise Problem(
                400,
                "The Stripe-Signature is missing, invalid or too old",
                slug=ProblemType.BAD_SIGNATURE,
            ) from exc
        # stripe only refuses signatures too old; one from the future is as suspect (a clock
        # far off, or a signature made to outlive the replay window).
        signed_at = _signed_at(signature or "")
        if signed_at is None or signed_at > time.time() + self.tolerance_s:
            log.warning("webhook signed in the future refused", extra={"signed_at": signed_at})
            raise Problem(
                400,
                "The Stripe-Signature is dated in the future beyond the tolerance",
                slug=ProblemType.BAD_SIGNATURE,
            )
        try:
            event = StripeEvent.model_validate(orjson.loads(payload))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise Problem(
                400, "The body is not a Stripe event", slug=ProblemType.MALFORMED_EVENT
            ) from exc
        obj = event.data.object
        async with self.database.session() as db, db.begin():
            created = datetime.fromtimestamp(event.created, UTC)
            object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
            if not await repo.record_webhook(db, event.id, event.type, object_id, created):
                outcome = "duplicate"
            else:
                try:
                    outcome = await self._apply(db, event.type, obj)
                    if outcome != repo.APPLIED:  # logged as applied
                        await repo.set_webhook_outcome(db, event.id, outcome)
                except Anomaly as anomaly:
                    outcome = anomaly.outcome
                    await repo.set_webhook_outcome(
                        db, event.id, outcome, payment_id=anomaly.payment_id, detail=anomaly.detail
                    )
                    log.error(
                        "webhook refused: it disagrees with the payment; needs attention",
                        extra={"event_id": event.id, "type": event.type, "outcome": outcome}
                        | anomaly.detail,
                    )
        log.info("webhook", extra={"event_id": event.id, "type": event.type, "outcome": outcome})
        return outcome

    async def _apply(self, db: AsyncSession, event_type: str, obj: dict[str, Any]) -> str:
        if event_type == "payment_intent.succeeded":
            return await self._intent_succeeded(db, obj)
        if event_type == "payment_intent.payment_failed":
            return await self._intent_failed(db, obj)
        if event_type in ("refund.created", "refund.updated", "refund.failed"):
            return await self._refund_changed(db, obj)
        return "ignored"

    async def _payment(self, db: AsyncSession, obj: dict[str, Any], key: str) -> repo.Row | None:
        return await repo.payment_for_event(db, *_named(obj, key))

    async def _intent_succeeded(self, db: AsyncSession, obj: dict[str, Any]) -> str:
        amount, currency, intent_id = obj.get("amount"), obj.get("currency"), obj.get("id")
        if isinstance(amount, int) and isinstance(currency, str):
            succeeded = await repo.succeed_if_payable(
                db, *_named(obj, "id"), amount, currency.upper(), PAYABLE
            )
            if succeeded is not None:  # the usual case, in one statement
                await self._record_success(db, succeeded)
                return repo.APPLIED
        payment = await self._payment(db, obj, "id")
        if payment is None:
            return "unknown-payment"
        if payment["status"] not in PAYABLE:
            return "stale"
        _check_amount(payment, obj)
        await self._mark_succeeded(db, payment, intent_id)
        return repo.APPLIED

    async def _mark_succeeded(
        self, db: AsyncSession, payment: repo.Row, provider_payment_id: Any
    ) -> None:
        changes: dict[str, Any] = {"status": "succeeded", "failure_reason": None}
        if not payment["provider_payment_id"] and isinstance(provider_payment_id, str):
            changes["provider_payment_id"] = provider_payment_id
        await repo.update_payment(db, payment["id"], **changes)
        await self._record_success(db, payment)

    async def _record_success(self, db: AsyncSession, payment: repo.Row) -> None:
        await add_fact(
            db,
            outbox,
            PaymentSucceeded(
                payment_id=payment["id"],
                booking_id=payment["booking_id"],
                amount_cents=payment["amount_cents"],
                currency=payment["currency"],
                provider=payment["provider"],
            ),
            SOURCE,
        )

    async def _intent_failed(self, db: AsyncSession, obj: dict[str, Any]) -> str:
        payment = await self._payment(db, obj, "id")
        if payment is None:
            return "unknown-payment"
        if payment["status"] not in ("creating", "requires_payment"):
            return "stale"  # already failed, or it succeeded (a late failure of an earlier try)
        error = obj.get("last_payment_error") or {}
        reason = str(error.get("message") or error.get("code") or "payment failed")[:255]
        await repo.update_payment(db, payment["id"], status="failed", failure_reason=reason)
        await add_fact(
            db,
            outbox,
            PaymentFailed(
                payment_id=payment["id"], booking_id=payment["booking_id"], reason=reason
            ),
            SOURCE,
        )
        return repo.APPLIED

    async def _refund_changed(self, db: AsyncSession, obj: dict[str, Any]) -> str:
        payment = await self._payment(db, obj, "payment_intent")
        if payment is None:
            return "unknown-payment"
        refund = await repo.refund_of_payment(db, payment["id"], lock=True)
        if refund is None:  # refunded outside this service (Stripe dashboard)
            refund_id = uuid.uuid4().hex
            await repo.insert_refund(
                db,
                id=refund_id,
                payment_id=payment["id"],
                provider_refund_id=obj.get("id"),
                amount_cents=int(obj.get("amount") or payment["amount_cents"]),
                currency=payment["currency"],
                reason=REFUNDED_AT_PROVIDER,
                status="pending",
            )
            refund = await repo.refund_of_payment(db, payment["id"], lock=True)
            assert refund is not None
        status = obj.get("status")
        if status == "succeeded" and refund["status"] != "succeeded":
            if payment["status"] in PAYABLE:
                # The refund proves the charge: its success event is late, or was lost.
                await self._mark_succeeded(db, payment, obj.get("payment_intent"))
            await repo.update_refund(
                db, refund["id"], status="succeeded", provider_refund_id=obj.get("id")
            )
            await repo.update_payment(db, payment["id"], status="refunded")
            await add_fact(
                db,
                outbox,
                PaymentRefunded(
                    payment_id=payment["id"],
                    booking_id=payment["booking_id"],
                    refund_id=refund["id"],
                    amount_cents=refund["amount_cents"],
                    currency=refund["currency"],
                    reason=refund["reason"],
                ),
                SOURCE,
            )
            return repo.APPLIED
        if status in ("failed", "canceled") and refund["status"] == "pending":
            log.error(
                "refund failed at the provider; needs attention",
                extra={"payment_id": payment["id"], "refund_id": refund["id"]},
            )
            await repo.update_refund(db, refund["id"], status="failed")
            return repo.APPLIED
        return "stale"
