"""The auth domain: registering, logging in, rotating refresh tokens, roles."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from ticketing_common import cursors
from ticketing_common.problems import (
    Problem,
    ProblemType,
    conflict,
    forbidden,
    not_found,
    unauthorized,
    unprocessable,
)
from ticketing_common.security import Principal

from ticketing_auth import repository
from ticketing_auth.keys import KeyRing
from ticketing_auth.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from ticketing_auth.schemas import TokenPair
from ticketing_auth.settings import AuthSettings
from ticketing_auth.throttle import LoginThrottle

log = logging.getLogger(__name__)

BAD_CREDENTIALS = "Invalid email or password"
BAD_REFRESH = "The refresh token is invalid, expired or revoked"


def _split_refresh_token(token: str) -> tuple[str, str]:
    token_id, _, secret = token.partition(".")
    if not token_id or not secret:
        raise unauthorized(BAD_REFRESH)
    return token_id, hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    def __init__(self, db: AsyncSession, keys: KeyRing, settings: AuthSettings) -> None:
        self.db = db
        self.keys = keys
        self.settings = settings

    async def register(
        self, email: str, password: str, name: str, role: str = "customer"
    ) -> dict[str, Any]:
        if problems := password_problems(password, email):
            raise Problem(
                422,
                "The password is too weak: " + "; ".join(problems),
                slug=ProblemType.WEAK_PASSWORD,
                title="Invalid request",
                errors=[
                    {"loc": ["body", "password"], "msg": p, "type": "weak_password"}
                    for p in problems
                ],
            )
        try:
            user = await repository.insert_user(
                self.db,
                user_id=str(uuid.uuid4()),
                email=email,
                name=name,
                role=role,
                password_hash=await hash_password(password),
            )
        except repository.EmailTaken:
            raise conflict(
                "An account with this email already exists", slug=ProblemType.EMAIL_TAKEN
            ) from None
        log.info("user registered", extra={"user_id": user["id"], "role": role})
        return user

    async def login(
        self, email: str, password: str, client_ip: str, throttle: LoginThrottle
    ) -> TokenPair:
        await throttle.admit(email, client_ip)
        credentials = await repository.credentials_by_email(self.db, email)
        stored_hash = credentials["password_hash"] if credentials else None
        if credentials is None or not await verify_password(stored_hash, password):
            await throttle.failed(email, client_ip)
            raise unauthorized(BAD_CREDENTIALS)
        await throttle.succeeded(email)
        if needs_rehash(credentials["password_hash"]):
            # Hashed under other parameters (an older default, which cost a login many times
            # today's): re-hashed with today's while the password is at hand, committed with
            # the refresh token.
            new_hash = await hash_password(password)
            await repository.set_password_hash(self.db, credentials["id"], new_hash)
        return await self._issue(credentials, family_id=str(uuid.uuid4()))

    async def refresh(self, refresh_token: str) -> TokenPair:
        token_id, secret_hash = _split_refresh_token(refresh_token)
        now = datetime.now(UTC)
        consumed = await repository.consume_refresh_token(self.db, token_id, secret_hash, now)
        if consumed is None:
            await self.db.rollback()
            family = await repository.refresh_token_family(self.db, token_id, secret_hash)
            if family is not None:
                # A genuine token that is used, revoked or expired: if it was stolen and already
                # rotated, the family must die so neither holder can keep refreshing.
                await repository.revoke_family(self.db, family, now)
                log.warning("refresh token reuse; family revoked", extra={"family_id": family})
            raise unauthorized(BAD_REFRESH)
        user = await repository.user_by_id(self.db, consumed["user_id"])
        if user is None:
            await self.db.rollback()
            raise unauthorized(BAD_REFRESH)
        return await self._issue(user, family_id=consumed["family_id"])

    async def logout(self, refresh_token: str) -> None:
        token_id, secret_hash = _split_refresh_token(refresh_token)
        family = await repository.refresh_token_family(self.db, token_id, secret_hash)
        if family is not None:
            await repository.revoke_family(self.db, family, datetime.now(UTC))

    async def user(self, user_id: str) -> dict[str, Any]:
        user = await repository.user_by_id(self.db, user_id)
        if user is None:
            raise unauthorized("The account no longer exists")
        return user

    async def profiles(self, user_ids: list[str]) -> list[dict[str, Any]]:
        """The users among `user_ids` that exist (unknown ids are left out)."""
        return await repository.users_by_id(self.db, sorted(set(user_ids)))

    async def change_role(
        self, user_id: str, role: str, organizer_id: str | None = None
    ) -> dict[str, Any]:
        """Any role, by an admin. Staff work for one organizer (`organizer_id`, an organizer's
        account); no other role names one. The new role reaches tokens at the next login or
        refresh (an access token lives `ACCESS_TOKEN_TTL_S`)."""
        if role == "staff":
            organizer = await repository.user_by_id(self.db, organizer_id) if organizer_id else None
            if organizer is None or organizer["role"] != "organizer" or organizer_id == user_id:
                raise _invalid_organizer(organizer_id)
        elif organizer_id is not None:
            raise unprocessable(
                (
                    ["body", "organizer_id"],
                    "only staff work for an organizer",
                    "organizer_not_allowed",
                ),
                detail="Only staff work for an organizer; leave organizer_id out for this role",
            )
        user = await repository.set_role(self.db, user_id, role, organizer_id)
        if user is None:
            raise not_found("User", user_id)
        log.info("role changed", extra={"user_id": user_id, "role": role})
        return user

    async def search(
        self,
        *,
        text: str | None,
        role: str | None,
        organizer_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        """Users newest first (the admin's list)."""
        after = cursors.decode_time_position(cursor) if cursor else None
        rows = await repository.search_users(
            self.db,
            text=text.strip() if text else None,
            role=role,
            organizer_id=organizer_id,
            after=after,
            limit=limit + 1,
        )
        return cursors.page_of(rows, limit, lambda row: [row["created_at"].isoformat(), row["id"]])

    # --- door staff: an organizer's own team ------------------------------------------------

    async def staff(
        self, user: Principal, organizer_id: str | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        """An organizer's staff (an admin names the organizer, or sees every staff member)."""
        if not user.is_admin:
            if organizer_id not in (None, user.user_id):
                raise forbidden("Organizers see only their own staff")
            organizer_id = user.user_id
        return await self.search(
            text=None, role="staff", organizer_id=organizer_id, limit=limit, cursor=cursor
        )

    async def add_staff(self, organizer: Principal, email: str) -> dict[str, Any]:
        """Make a customer account the organizer's door staff (admins use change_role)."""
        if organizer.role != "organizer":
            raise forbidden("Only an organizer adds staff to their own team")
        found = await repository.user_by_email(self.db, email)
        if found is None:
            raise Problem(
                404,
                "No account has this email; ask them to register first",
                slug=ProblemType.NOT_FOUND,
            )
        if found["role"] == "staff" and found["organizer_id"] == organizer.user_id:
            return found  # already on the team
        if found["role"] != "customer":
            raise conflict(
                f"This account is {_article(found['role'])}; only a customer account can become "
                "staff",
                slug=ProblemType.NOT_A_CUSTOMER,
            )
        user = await repository.set_role(
            self.db, found["id"], "staff", organizer.user_id, only_if_role="customer"
        )
        if user is None:
            raise conflict(
                "The account changed meanwhile; try again", slug=ProblemType.NOT_A_CUSTOMER
            )
        log.info("staff added", extra={"user_id": user["id"], "organizer_id": organizer.user_id})
        return user

    async def remove_staff(self, user: Principal, staff_id: str) -> None:
        """Back to customer. The organizer's own staff only (admins: anyone's)."""
        found = await repository.user_by_id(self.db, staff_id)
        if (
            found is None
            or found["role"] != "staff"
            or not (user.is_admin or found["organizer_id"] == user.user_id)
        ):
            raise not_found("Staff member", staff_id)
        changed = await repository.set_role(
            self.db,
            staff_id,
            "customer",
            only_if_role="staff",
            only_if_organizer=found["organizer_id"],
        )
        if changed is not None:
            log.info("staff removed", extra={"user_id": staff_id})

    async def ensure_admin(self, email: str, password: str, name: str) -> None:
        existing = await repository.credentials_by_email(self.db, email)
        if existing is None:
            await self.register(email, password, name, role="admin")
        elif existing["role"] != "admin":
            await self.change_role(existing["id"], "admin")

    async def _issue(self, user: dict[str, Any], family_id: str) -> TokenPair:
        now = int(time.time())
        ttl = self.settings.access_token_ttl_s
        claims: dict[str, Any] = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": user["id"],
            "role": user["role"],
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if user["role"] == "staff":
            claims["organizer_id"] = user["organizer_id"]
        access = self.keys.sign(claims)
        token_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(32)
        await repository.insert_refresh_token(
            self.db,
            token_id=token_id,
            family_id=family_id,
            user_id=user["id"],
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            expires_at=datetime.now(UTC) + timedelta(seconds=self.settings.refresh_token_ttl_s),
        )
        await self.db.commit()
        return TokenPair(access_token=access, refresh_token=f"{token_id}.{secret}", expires_in=ttl)


def _article(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _invalid_organizer(organizer_id: str | None) -> Problem:
    message = (
        "staff need the id of the organizer they work for"
        if organizer_id is None
        else f"{organizer_id!r} is not an organizer's account"
    )
    return unprocessable((["body", "organizer_id"], message, "invalid_organizer"))
