"""SQL for payments, refunds and the webhook log (SQLAlchemy Core; no ORM objects)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticketing_payment.tables import payments, refunds, webhook_events

Row = dict[str, Any]
APPLIED = "applied"  # a webhook event's outcome when it changed what it is about


async def insert_payment(db: AsyncSession, **values: Any) -> Row | None:
    """The new payment, or None when the booking already has one."""
    row = (
        await db.execute(
            insert(payments)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["booking_id"])
            .returning(*payments.c)
        )
    ).first()
    return dict(row._mapping) if row else None


async def payment_by_id(db: AsyncSession, payment_id: str, *, lock: bool = False) -> Row | None:
    query = select(payments).where(payments.c.id == payment_id)
    if lock:
        query = query.with_for_update()
    row = (await db.execute(query)).first()
    return dict(row._mapping) if row else None


async def payment_by_booking(db: AsyncSession, booking_id: str) -> Row | None:
    row = (await db.execute(select(payments).where(payments.c.booking_id == booking_id))).first()
    return dict(row._mapping) if row else None


def _named_by_event(payment_id: str | None, provider_payment_id: str | None) -> Any:
    """The condition for the payment a provider event names; None when it names none."""
    conditions = []
    if payment_id:
        conditions.append(payments.c.id == payment_id)
    if provider_payment_id:
        conditions.append(payments.c.provider_payment_id == provider_payment_id)
    return or_(*conditions) if conditions else None


async def payment_for_event(
    db: AsyncSession, payment_id: str | None, provider_payment_id: str | None
) -> Row | None:
    """The payment a provider event is about (by our id in its metadata, else the provider's
    id), locked for the rest of the transaction."""
    named = _named_by_event(payment_id, provider_payment_id)
    if named is None:
        return None
    row = (await db.execute(select(payments).where(named).limit(1).with_for_update())).first()
    return dict(row._mapping) if row else None


async def succeed_if_payable(
    db: AsyncSession,
    payment_id: str | None,
    provider_payment_id: str | None,
    amount_cents: int,
    currency: str,
    payable: tuple[str, ...],
) -> Row | None:
    """The usual success in one statement: the payment the event names (as payment_for_event
    finds it, locked), when it may still succeed and the event is for its amount, marked
    succeeded. None when it is not so (unknown, stale, another amount): the caller asks why."""
    named = _named_by_event(payment_id, provider_payment_id)
    if named is None:
        return None
    the_one = select(payments.c.id).where(named).limit(1).with_for_update()
    values: dict[str, Any] = {
        "status": "succeeded",
        "failure_reason": None,
        "updated_at": func.now(),
    }
    if provider_payment_id:
        values["provider_payment_id"] = func.coalesce(
            payments.c.provider_payment_id, provider_payment_id
        )
    row = (
        await db.execute(
            update(payments)
            .where(
                payments.c.id == the_one.scalar_subquery(),
                payments.c.status.in_(payable),
                payments.c.amount_cents == amount_cents,
                payments.c.currency == currency,
            )
            .values(**values)
            .returning(*payments.c)
        )
    ).first()
    return dict(row._mapping) if row else None


async def update_payment(db: AsyncSession, payment_id: str, **values: Any) -> None:
    await db.execute(
        update(payments).where(payments.c.id == payment_id).values(**values, updated_at=func.now())
    )


async def attach_intent(
    db: AsyncSession, payment_id: str, provider_payment_id: str, client_secret: str
) -> Row:
    """Record the provider's intent; a webhook that already moved the status on is kept. The
    payment as it is now."""
    row = (
        await db.execute(
            update(payments)
            .where(payments.c.id == payment_id)
            .values(
                provider_payment_id=provider_payment_id,
                client_secret=client_secret,
                status=func.coalesce(
                    func.nullif(payments.c.status, "creating"), "requires_payment"
                ),
                updated_at=func.now(),
            )
            .returning(*payments.c)
        )
    ).one()
    return dict(row._mapping)


async def insert_refund(db: AsyncSession, **values: Any) -> None:
    await db.execute(
        insert(refunds).values(**values).on_conflict_do_nothing(index_elements=["payment_id"])
    )


async def refund_of_payment(db: AsyncSession, payment_id: str, *, lock: bool = False) -> Row | None:
    query = select(refunds).where(refunds.c.payment_id == payment_id)
    if lock:
        query = query.with_for_update()
    row = (await db.execute(query)).first()
    return dict(row._mapping) if row else None


async def update_refund(db: AsyncSession, refund_id: str, **values: Any) -> None:
    await db.execute(
        update(refunds).where(refunds.c.id == refund_id).values(**values, updated_at=func.now())
    )


async def record_webhook(
    db: AsyncSession, event_id: str, event_type: str, object_id: str | None, created: Any
) -> bool:
    """Log an event id; False when it was logged before (a replay). Concurrent deliveries of the
    same id wait on the primary key, so exactly one of them applies the event. It is logged as
    applied, the usual outcome: any other is set before the commit (until then nobody sees the
    row), which spares the usual case an UPDATE."""
    inserted = (
        await db.execute(
            insert(webhook_events)
            .values(
                event_id=event_id,
                type=event_type,
                object_id=object_id,
                outcome=APPLIED,
                stripe_created=created,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(webhook_events.c.event_id)
        )
    ).first()
    return inserted is not None


async def set_webhook_outcome(
    db: AsyncSession,
    event_id: str,
    outcome: str,
    *,
    payment_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {"outcome": outcome}
    if detail is not None:
        values |= {"payment_id": payment_id, "detail": detail}
    await db.execute(
        update(webhook_events).where(webhook_events.c.event_id == event_id).values(**values)
    )


async def anomalies(db: AsyncSession, limit: int) -> list[Row]:
    """Webhook events refused for what they said, newest first."""
    rows = await db.execute(
        select(webhook_events, payments.c.booking_id)
        .outerjoin(payments, payments.c.id == webhook_events.c.payment_id)
        .where(webhook_events.c.detail.is_not(None))
        .order_by(webhook_events.c.received_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def _state_query() -> Any:
    return select(
        payments.c.id,
        payments.c.booking_id,
        payments.c.status,
        payments.c.provider,
        payments.c.amount_cents,
        payments.c.currency,
        payments.c.failure_reason,
        payments.c.updated_at,
        refunds.c.id.label("refund_id"),
        refunds.c.status.label("refund_status"),
    ).outerjoin(refunds, refunds.c.payment_id == payments.c.id)


async def payment_state(db: AsyncSession, payment_id: str) -> Row | None:
    row = (await db.execute(_state_query().where(payments.c.id == payment_id))).first()
    return dict(row._mapping) if row else None


async def changed(
    db: AsyncSession, after: tuple[datetime, str], until: datetime, limit: int
) -> list[Row]:
    """Payments in the order they last changed, after the position `after` (updated_at, id) and
    no later than `until`."""
    rows = await db.execute(
        _state_query()
        .where(
            and_(
                tuple_(payments.c.updated_at, payments.c.id) > tuple_(*after),
                payments.c.updated_at <= until,
            )
        )
        .order_by(payments.c.updated_at, payments.c.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]
