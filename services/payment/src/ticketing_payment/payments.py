"""Creating payments, refunding them and simulating outcomes: the service's commands."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from ticketing_common.errors import InvalidCursor
from ticketing_common.problems import Problem, ProblemType, conflict, not_found
from ticketing_common.security import Principal

from ticketing_payment import repository as repo
from ticketing_payment.providers import TEST_PAYMENT_METHODS, PaymentProvider, PaymentRef

log = logging.getLogger(__name__)


def reference(payment: repo.Row) -> PaymentRef:
    return PaymentRef(
        payment_id=payment["id"],
        booking_id=payment["booking_id"],
        amount_cents=payment["amount_cents"],
        currency=payment["currency"],
        attempt=payment["attempt"],
        provider_payment_id=payment["provider_payment_id"],
    )


def state(row: repo.Row) -> dict[str, Any]:
    """A payment as booking reconciles with it."""
    return {
        "payment_id": row["id"],
        "booking_id": row["booking_id"],
        "status": row["status"],
        "provider": row["provider"],
        "amount_cents": row["amount_cents"],
        "currency": row["currency"],
        "failure_reason": row["failure_reason"],
        "refund_id": row["refund_id"],
        "refund_status": row["refund_status"],
        "updated_at": row["updated_at"],
    }


def public(payment: repo.Row) -> dict[str, Any]:
    return {
        "payment_id": payment["id"],
        "booking_id": payment["booking_id"],
        "status": payment["status"],
        "amount_cents": payment["amount_cents"],
        "currency": payment["currency"],
        "provider": payment["provider"],
    }


class Payments:
    def __init__(self, db: AsyncSession, provider: PaymentProvider) -> None:
        self.db = db
        self.provider = provider

    async def create(
        self, booking_id: str, user_id: str, amount_cents: int, currency: str
    ) -> dict[str, Any]:
        """One payment per booking: a repeated call (a retry after a timeout) returns the first
        one. The row is committed before the provider is asked, so a crash in between leaves
        something to finish, and the provider's idempotency key makes finishing it safe. A first
        call (every booking's) is an insert and an update, each returning the row; a repeated
        one reads what the insert found."""
        payment = await repo.insert_payment(
            self.db,
            id=uuid.uuid4().hex,
            booking_id=booking_id,
            user_id=user_id,
            amount_cents=amount_cents,
            currency=currency,
            provider=self.provider.kind,
            status="creating",
        )
        if payment is not None:
            await self.db.commit()
        else:
            payment = await repo.payment_by_booking(self.db, booking_id)  # a retry's, a racer's
            assert payment is not None
        if (payment["user_id"], payment["amount_cents"], payment["currency"]) != (
            user_id,
            amount_cents,
            currency,
        ):
            raise conflict(
                "This booking already has a payment with other details",
                ProblemType.PAYMENT_MISMATCH,
            )
        if payment["provider_payment_id"] is None:
            intent = await self.provider.create_intent(reference(payment))
            payment = await repo.attach_intent(
                self.db, payment["id"], intent.id, intent.client_secret
            )
            await self.db.commit()
        return {
            "payment_id": payment["id"],
            "provider": payment["provider"],
            "client_secret": payment["client_secret"],
            "status": payment["status"],
        }

    async def refund(self, payment_id: str, reason: str) -> dict[str, Any]:
        """Refund a succeeded payment in full; asking again returns the same refund."""
        payment = await repo.payment_by_id(self.db, payment_id, lock=True)
        if payment is None:
            raise not_found("Payment", payment_id)
        refund = await repo.refund_of_payment(self.db, payment_id)
        if refund is None:
            if payment["status"] != "succeeded":
                raise conflict(
                    f"Only a succeeded payment can be refunded (this one is {payment['status']})",
                    ProblemType.PAYMENT_NOT_REFUNDABLE,
                    payment_status=payment["status"],
                )
            await repo.insert_refund(
                self.db,
                id=uuid.uuid4().hex,
                payment_id=payment_id,
                amount_cents=payment["amount_cents"],
                currency=payment["currency"],
                reason=reason,
                status="pending",
            )
            refund = await repo.refund_of_payment(self.db, payment_id)
            assert refund is not None
        await self.db.commit()  # the refund record exists before the provider hears of it
        if refund["status"] == "pending" and refund["provider_refund_id"] is None:
            result = await self.provider.refund(reference(payment), refund["id"], refund["reason"])
            current = await repo.refund_of_payment(self.db, payment_id, lock=True)
            assert current is not None
            if current["provider_refund_id"] is None:  # the webhook may have recorded it first
                await repo.update_refund(self.db, refund["id"], provider_refund_id=result.id)
            await self.db.commit()
            refund = current
        return {"refund_id": refund["id"], "status": refund["status"]}

    async def visible_to(self, user: Principal, payment_id: str) -> repo.Row:
        payment = await repo.payment_by_id(self.db, payment_id)
        # Someone else's payment answers like a missing one: ids are not for probing.
        if payment is None or not (user.is_admin or payment["user_id"] == user.user_id):
            raise not_found("Payment", payment_id)
        return payment

    async def simulate(self, user: Principal, payment_id: str, outcome: str) -> None:
        payment = await self.visible_to(user, payment_id)
        if not self.provider.simulated or payment["provider"] != self.provider.kind:
            raise not_found("Payment", payment_id)
        if payment["status"] not in ("requires_payment", "failed"):
            raise Problem(
                409,
                f"The payment is {payment['status']}; only an open payment can be confirmed",
                slug=ProblemType.PAYMENT_NOT_OPEN,
                payment_status=payment["status"],
            )
        await self.db.commit()  # end the read transaction: the webhook applies in its own
        await self.provider.confirm_intent(reference(payment), TEST_PAYMENT_METHODS[outcome])

    async def state(self, payment_id: str) -> dict[str, Any]:
        row = await repo.payment_state(self.db, payment_id)
        if row is None:
            raise not_found("Payment", payment_id)
        return state(row)

    async def changes(
        self, cursor: str | None, since: datetime | None, until: datetime, limit: int
    ) -> dict[str, Any]:
        """Payments in the order they changed, after `since` (or the cursor's position) up to
        `until`: what booking's reconciliation reads so that no payment depends on a bus message
        alone."""
        if cursor:
            after = _decode_position(cursor)
        else:
            after = (since or datetime.min.replace(tzinfo=UTC), "")
        rows = await repo.changed(self.db, after, until, limit)
        next_cursor = None
        if len(rows) == limit:
            last = rows[-1]
            next_cursor = _encode_position(last["updated_at"], last["id"])
        return {"items": [state(row) for row in rows], "next_cursor": next_cursor}

    async def anomalies(self, limit: int) -> list[dict[str, Any]]:
        return [
            {
                "event_id": row["event_id"],
                "type": row["type"],
                "outcome": row["outcome"],
                "payment_id": row["payment_id"],
                "booking_id": row["booking_id"],
                "detail": row["detail"],
                "received_at": row["received_at"],
            }
            for row in await repo.anomalies(self.db, limit)
        ]


def _encode_position(updated_at: datetime, payment_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([updated_at.isoformat(), payment_id])).decode()


def _decode_position(cursor: str) -> tuple[datetime, str]:
    try:
        at, payment_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(payment_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
