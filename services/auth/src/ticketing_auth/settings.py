from __future__ import annotations

from pydantic import Field, SecretStr
from ticketing_common.settings import (
    PostgresSettings,
    RedisSettings,
    ServiceSettings,
    local_database,
    production_secret,
)


class AuthSettings(ServiceSettings, PostgresSettings, RedisSettings):
    service_name: str = "auth"
    database_url: str = local_database("ticketing_auth")

    access_token_ttl_s: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_s: int = Field(default=30 * 86_400, ge=3600)

    # JSON list of {"kid", "private_key" (PEM, Ed25519 or RSA), "retired_at" (RFC 3339, optional)}.
    # The first key without retired_at signs; retired keys stay in the JWKS until tokens they
    # signed have expired. Empty: a throwaway key is generated (dev only, with a warning;
    # production refuses to start without it).
    signing_keys: SecretStr = production_secret()

    # The first administrator; created (or promoted) at startup when both are set.
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    admin_name: str = "Administrator"

    # Login throttling (throttle.py): failed logins per account (in LOGIN_WINDOW_S) and per client
    # address (in LOGIN_IP_WINDOW_S), and a ceiling on every attempt per address, high enough for
    # a thousand customers behind one NAT signing in within a minute.
    login_failures_per_email: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=60, ge=1)
    login_attempts_per_ip: int = Field(default=3000, ge=1)
    login_window_s: int = Field(default=900, ge=1)
    login_ip_window_s: int = Field(default=60, ge=1)
    # How many proxies (gateway, ALB) append to X-Forwarded-For in front of this service.
    trusted_proxy_hops: int = Field(default=1, ge=0)
