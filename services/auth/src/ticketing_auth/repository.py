"""SQL for users and refresh tokens (SQLAlchemy Core; no ORM objects)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, true, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from ticketing_common.database import contains

from ticketing_auth.tables import refresh_tokens, users

USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.name,
    users.c.role,
    users.c.organizer_id,
    users.c.created_at,
)


class EmailTaken(Exception):
    pass


async def insert_user(
    db: AsyncSession, *, user_id: str, email: str, name: str, role: str, password_hash: str
) -> dict[str, Any]:
    try:
        row = (
            await db.execute(
                insert(users)
                .values(id=user_id, email=email, name=name, role=role, password_hash=password_hash)
                .returning(*USER_COLUMNS)
            )
        ).one()
    except IntegrityError as exc:
        await db.rollback()
        raise EmailTaken(email) from exc
    await db.commit()
    return dict(row._mapping)


async def user_by_id(db: AsyncSession, user_id: str) -> dict[str, Any] | None:
    row = (await db.execute(select(*USER_COLUMNS).where(users.c.id == user_id))).first()
    return dict(row._mapping) if row else None


async def credentials_by_email(db: AsyncSession, email: str) -> dict[str, Any] | None:
    row = (
        await db.execute(
            select(users.c.id, users.c.role, users.c.organizer_id, users.c.password_hash).where(
                users.c.email == email
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def users_by_id(db: AsyncSession, user_ids: list[str]) -> list[dict[str, Any]]:
    rows = await db.execute(select(*USER_COLUMNS).where(users.c.id.in_(user_ids)))
    return [dict(row._mapping) for row in rows]


async def user_by_email(db: AsyncSession, email: str) -> dict[str, Any] | None:
    row = (await db.execute(select(*USER_COLUMNS).where(users.c.email == email))).first()
    return dict(row._mapping) if row else None


async def set_role(
    db: AsyncSession,
    user_id: str,
    role: str,
    organizer_id: str | None = None,
    *,
    only_if_role: str | None = None,
    only_if_organizer: str | None = None,
) -> dict[str, Any] | None:
    """Change a role (a staff member's organizer with it); None when there is no such user, or
    it no longer has `only_if_role` / `only_if_organizer` (a concurrent change won)."""
    conditions = [users.c.id == user_id]
    if only_if_role is not None:
        conditions.append(users.c.role == only_if_role)
    if only_if_organizer is not None:
        conditions.append(users.c.organizer_id == only_if_organizer)
    row = (
        await db.execute(
            update(users)
            .where(and_(*conditions))
            .values(role=role, organizer_id=organizer_id)
            .returning(*USER_COLUMNS)
        )
    ).first()
    await db.commit()
    return dict(row._mapping) if row else None


async def set_password_hash(db: AsyncSession, user_id: str, password_hash: str) -> None:
    """Store a new hash of the same password (the caller commits)."""
    await db.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


async def search_users(
    db: AsyncSession,
    *,
    text: str | None,
    role: str | None,
    organizer_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Users newest first, matching part of their email or name, a role, an organizer."""
    conditions = []
    if text:
        conditions.append(or_(contains(users.c.email, text), contains(users.c.name, text)))
    if role is not None:
        conditions.append(users.c.role == role)
    if organizer_id is not None:
        conditions.append(users.c.organizer_id == organizer_id)
    if after is not None:
        conditions.append(tuple_(users.c.created_at, users.c.id) < tuple_(*after))
    rows = await db.execute(
        select(*USER_COLUMNS)
        .where(and_(true(), *conditions))
        .order_by(users.c.created_at.desc(), users.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def insert_refresh_token(
    db: AsyncSession,
    *,
    token_id: str,
    family_id: str,
    user_id: str,
    secret_hash: str,
    expires_at: datetime,
) -> None:
    await db.execute(
        insert(refresh_tokens).values(
            id=token_id,
            family_id=family_id,
            user_id=user_id,
            secret_hash=secret_hash,
            expires_at=expires_at,
        )
    )


async def consume_refresh_token(
    db: AsyncSession, token_id: str, secret_hash: str, now: datetime
) -> dict[str, Any] | None:
    """Mark a live token used, atomically: of two concurrent refreshes only one wins."""
    row = (
        await db.execute(
            update(refresh_tokens)
            .where(
                and_(
                    refresh_tokens.c.id == token_id,
                    refresh_tokens.c.secret_hash == secret_hash,
                    refresh_tokens.c.used_at.is_(None),
                    refresh_tokens.c.revoked_at.is_(None),
                    refresh_tokens.c.expires_at > now,
                )
            )
            .values(used_at=now)
            .returning(refresh_tokens.c.family_id, refresh_tokens.c.user_id)
        )
    ).first()
    return dict(row._mapping) if row else None


async def refresh_token_family(db: AsyncSession, token_id: str, secret_hash: str) -> str | None:
    row = (
        await db.execute(
            select(refresh_tokens.c.family_id).where(
                and_(refresh_tokens.c.id == token_id, refresh_tokens.c.secret_hash == secret_hash)
            )
        )
    ).first()
    return row.family_id if row else None


async def revoke_family(db: AsyncSession, family_id: str, now: datetime) -> None:
    await db.execute(
        update(refresh_tokens)
        .where(and_(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None)))
        .values(revoked_at=now)
    )
    await db.commit()
