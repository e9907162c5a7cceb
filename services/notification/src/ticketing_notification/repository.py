"""SQL for the notifications record (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing_notification.tables import notifications

LOCK_NOT_AVAILABLE = "55P03"


class Busy(Exception):
    """Another worker is sending this very notification right now."""


async def claim(
    conn: AsyncConnection, *, envelope_id: str, kind: str, user_id: str, booking_id: str
) -> None:
    """The record of a fact, created once (the envelope id is unique)."""
    await conn.execute(
        insert(notifications)
        .values(
            notification_id=str(uuid.uuid4()),
            envelope_id=envelope_id,
            kind=kind,
            user_id=user_id,
            booking_id=booking_id,
            status="pending",
        )
        .on_conflict_do_nothing(index_elements=[notifications.c.envelope_id])
    )


async def status(conn: AsyncConnection, envelope_id: str) -> str | None:
    found = await conn.scalar(
        select(notifications.c.status).where(notifications.c.envelope_id == envelope_id)
    )
    return str(found) if found is not None else None


async def lock(conn: AsyncConnection, envelope_id: str) -> str | None:
    """Lock the record for this transaction and return its status. Never waits: a record that
    is locked is being sent by another worker (Busy)."""
    try:
        found = await conn.scalar(
            select(notifications.c.status)
            .where(notifications.c.envelope_id == envelope_id)
            .with_for_update(nowait=True)
        )
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise Busy(envelope_id) from exc
        raise
    return str(found) if found is not None else None


async def mark_sent(
    conn: AsyncConnection,
    envelope_id: str,
    *,
    recipient: str,
    subject: str,
    provider_message_id: str,
) -> None:
    await conn.execute(
        update(notifications)
        .where(notifications.c.envelope_id == envelope_id)
        .values(
            status="sent",
            recipient=recipient,
            subject=subject,
            provider_message_id=provider_message_id,
            attempts=notifications.c.attempts + 1,
            last_error=None,
            sent_at=datetime.now(UTC),
        )
    )


async def record_failure(
    conn: AsyncConnection, envelope_id: str, error: str, *, final: bool
) -> None:
    values: dict[str, Any] = {"attempts": notifications.c.attempts + 1, "last_error": error[:2000]}
    if final:
        values["status"] = "failed"
    await conn.execute(
        update(notifications)
        .where(notifications.c.envelope_id == envelope_id, notifications.c.status != "sent")
        .values(**values)
    )


async def sent_to(conn: AsyncConnection, user_id: str, limit: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(
            notifications.c.notification_id,
            notifications.c.kind,
            notifications.c.subject,
            notifications.c.sent_at,
            notifications.c.booking_id,
        )
        .where(notifications.c.user_id == user_id, notifications.c.status == "sent")
        .order_by(notifications.c.sent_at.desc(), notifications.c.notification_id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]
