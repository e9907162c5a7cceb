from __future__ import annotations

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.database import Database
from ticketing_common.fastpath import serve_ahead_of_router
from ticketing_common.redis import RedisClient
from ticketing_common.resources import provide
from ticketing_common.security import StaticKeySource, TokenVerifier

from ticketing_auth.accounts import Accounts
from ticketing_auth.api import internal, internal_reads, router, user_by_id
from ticketing_auth.keys import KeyRing
from ticketing_auth.settings import AuthSettings
from ticketing_auth.throttle import LoginThrottle


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    keys = KeyRing.from_config(
        settings.signing_keys.get_secret_value(), settings.access_token_ttl_s
    )
    database = Database.from_settings(settings)
    redis = RedisClient.from_settings(settings)

    async def prepare(app: FastAPI) -> None:
        throttle = LoginThrottle(
            redis.client,
            failures_per_email=settings.login_failures_per_email,
            failures_per_ip=settings.login_failures_per_ip,
            attempts_per_ip=settings.login_attempts_per_ip,
            email_window_s=settings.login_window_s,
            ip_window_s=settings.login_ip_window_s,
        )
        provide(app, throttle)  # once Redis is open: it works on the client
        if settings.admin_email and settings.admin_password:
            async with database.session() as db:
                await Accounts(db, keys, settings).ensure_admin(
                    settings.admin_email.strip().lower(),
                    settings.admin_password.get_secret_value(),
                    settings.admin_name,
                )

    app = create_service_app(
        settings,
        title="Auth service",
        description="Users, credentials, refresh tokens and the platform's signing keys.",
        routers=[router, internal_reads, internal],
        resources=[
            database,
            redis,
            # Auth verifies its own tokens with its own keys: no HTTP round trip to itself.
            TokenVerifier(
                StaticKeySource(keys.jwks),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            ),
        ],
        on_startup=[prepare],
        provides=[keys],
    )
    serve_ahead_of_router(app, internal_reads.routes, user_by_id)
    return app
