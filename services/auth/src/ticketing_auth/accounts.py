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
from ticketing_common.problems import Problem, conflict, not_found, unauthorized

from ticketing_auth import repository
from ticketing_auth.keys import KeyRing
from ticketing_auth.passwords import hash_password, password_problems, verify_password
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
                slug="weak-password",
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
                "An account with this email already exists", slug="email-taken"
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
            await throttle.failed(email)
            raise unauthorized(BAD_CREDENTIALS)
        await throttle.succeeded(email)
        return await self._issue(
            credentials["id"], credentials["role"], family_id=str(uuid.uuid4())
        )

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
        return await self._issue(user["id"], user["role"], family_id=consumed["family_id"])

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

    async def profile(self, user_id: str) -> dict[str, Any]:
        user = await repository.user_by_id(self.db, user_id)
        if user is None:
            raise not_found("User", user_id)
        return user

    async def change_role(self, user_id: str, role: str) -> dict[str, Any]:
        user = await repository.set_role(self.db, user_id, role)
        if user is None:
            raise not_found("User", user_id)
        log.info("role changed", extra={"user_id": user_id, "role": role})
        return user

    async def ensure_admin(self, email: str, password: str, name: str) -> None:
        existing = await repository.credentials_by_email(self.db, email)
        if existing is None:
            await self.register(email, password, name, role="admin")
        elif existing["role"] != "admin":
            await self.change_role(existing["id"], "admin")

    async def _issue(self, user_id: str, role: str, family_id: str) -> TokenPair:
        now = int(time.time())
        ttl = self.settings.access_token_ttl_s
        access = self.keys.sign(
            {
                "iss": self.settings.jwt_issuer,
                "aud": self.settings.jwt_audience,
                "sub": user_id,
                "role": role,
                "iat": now,
                "exp": now + ttl,
                "jti": uuid.uuid4().hex,
            }
        )
        token_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(32)
        await repository.insert_refresh_token(
            self.db,
            token_id=token_id,
            family_id=family_id,
            user_id=user_id,
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            expires_at=datetime.now(UTC) + timedelta(seconds=self.settings.refresh_token_ttl_s),
        )
        await self.db.commit()
        return TokenPair(access_token=access, refresh_token=f"{token_id}.{secret}", expires_in=ttl)
