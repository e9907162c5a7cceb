from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from ticketing_common.settings import RedisSettings, ServiceSettings


class Limit(BaseModel):
    """A token bucket: `burst` tokens at most, refilled at `rate` tokens per second."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float = Field(gt=0)
    burst: int = Field(ge=1)


class GroupLimits(BaseModel):
    """The limits of one route group: the route prefixes it covers (none for `default`, which
    covers every prefix no other group names) and a bucket per client IP or per user."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prefixes: tuple[str, ...] = ()
    anonymous: Limit
    user: Limit


class Timeouts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_s: float = Field(gt=0)
    total_s: float = Field(gt=0)


# Anonymous buckets are per client address, and one address can be a carrier's NAT, a campus or
# an office: a thousand customers signing in from it in the minute an on-sale opens must all get
# through. They are a ceiling against floods, not the defence against password guessing: auth
# throttles failed logins per account and per address itself (ticketing_auth.throttle).
DEFAULT_RATE_LIMITS: dict[str, GroupLimits] = {
    "default": GroupLimits(anonymous=Limit(rate=50, burst=500), user=Limit(rate=50, burst=100)),
    # Credential endpoints: sign-in, sign-up and refresh of a crowd behind one address.
    "auth": GroupLimits(
        prefixes=("/api/v1/auth",),
        anonymous=Limit(rate=20, burst=1000),
        user=Limit(rate=5, burst=20),
    ),
    # The waiting room (per account: polls come every few seconds, from a tab or two).
    "waiting-room": GroupLimits(
        prefixes=("/api/v1/waiting-room",),
        anonymous=Limit(rate=5, burst=30),
        user=Limit(rate=5, burst=30),
    ),
    # Browsing during an on-sale: many reads per page, many people per address.
    "catalog": GroupLimits(
        prefixes=("/api/v1/events", "/api/v1/venues", "/api/v1/search"),
        anonymous=Limit(rate=200, burst=2000),
        user=Limit(rate=100, burst=200),
    ),
}


class GatewaySettings(ServiceSettings, RedisSettings):
    service_name: str = "api-gateway"

    # {public path prefix: upstream base URL}; `make dev` builds it from every service's
    # [tool.ticketing] routes.
    gateway_routes: dict[str, str] = {}

    # How many proxies (ALB, CDN) append to X-Forwarded-For in front of the gateway. 0: the TCP
    # peer is the client and a client-sent X-Forwarded-For is not believed.
    trusted_proxy_hops: int = Field(default=0, ge=0)

    # Upstream calls: defaults, and overrides per route prefix ({prefix: {connect_s, total_s}}).
    upstream_connect_timeout_s: float = Field(default=1.0, gt=0)
    upstream_timeout_s: float = Field(default=15.0, gt=0)
    upstream_timeouts: dict[str, Timeouts] = {}
    upstream_pool_size: int = Field(default=512, ge=1)
    upstream_pool_size_per_host: int = Field(default=256, ge=1)
    # Below uvicorn's 5 s server keep-alive, so we drop idle connections before the upstream does.
    upstream_keepalive_s: float = Field(default=4.0, gt=0)

    # Circuit breaker per upstream: open after this many consecutive transport failures, let one
    # probe through after the cool-down.
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=5.0, gt=0)

    # Rate limits per route group ({group: {prefixes, anonymous: {rate, burst}, user: {...}}}).
    rate_limits: dict[str, GroupLimits] = DEFAULT_RATE_LIMITS
    # A replica takes tokens from the shared Redis bucket in leases of
    # clamp(burst * fraction, 1, max) tokens; unused leased tokens are dropped after the TTL.
    rate_limit_lease_fraction: float = Field(default=0.1, gt=0, le=1)
    rate_limit_max_lease: int = Field(default=100, ge=1)
    rate_limit_lease_ttl_s: float = Field(default=1.0, gt=0)
    # A Redis call slower than this counts as Redis being down (fail open).
    rate_limit_redis_timeout_s: float = Field(default=0.25, gt=0)
    # After a Redis failure, admit without asking Redis for this long before trying again.
    rate_limit_retry_s: float = Field(default=1.0, gt=0)

    # GET /status: each upstream's /ready, with this timeout; answers are reused this long.
    status_timeout_s: float = Field(default=2.0, gt=0)
    status_cache_s: float = Field(default=2.0, ge=0)
    # GET /openapi.json: the public API merged from the upstreams' documents, rebuilt this often.
    openapi_cache_s: float = Field(default=60.0, ge=0)
    # The status page's history: one sample of /status per interval (one replica records it),
    # kept this long in Redis; GET /status/history is rebuilt at most every cache interval.
    status_sample_interval_s: float = Field(default=60.0, ge=1)
    status_history_retention_s: float = Field(default=86_400.0, ge=3600)
    status_history_cache_s: float = Field(default=10.0, ge=0)

    # Waiting rooms (waiting_room.py): the events service says which events have one on (read
    # every WAITING_ROOM_REFRESH_S; unset: no event has one). Every replica admits each open
    # room's next people every WAITING_ROOM_TICK_S.
    events_url: str | None = None
    waiting_room_refresh_s: float = Field(default=2.0, gt=0)
    waiting_room_tick_s: float = Field(default=0.5, gt=0)
    waiting_room_redis_timeout_s: float = Field(default=1.0, gt=0)
    # Ed25519 private key (PEM) that signs admission tokens; every replica needs the same one.
    # Empty: a throwaway key (dev and tests only, refused in production).
    waiting_room_signing_key: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _gateway_needs_keys_and_groups(self) -> GatewaySettings:
        if not self.jwks_url:
            raise ValueError("JWKS_URL must be set: the gateway verifies tokens at the edge")
        if self.environment == "prod":
            if not self.waiting_room_signing_key.get_secret_value().strip():
                raise ValueError(
                    "WAITING_ROOM_SIGNING_KEY must be set in production: replicas share it, "
                    "and admission tokens must outlive a restart"
                )
            if not self.events_url:
                raise ValueError(
                    "EVENTS_URL must be set in production: it says which events' holds and "
                    "bookings go through a waiting room"
                )
        if "default" not in self.rate_limits:
            raise ValueError("RATE_LIMITS needs a 'default' group")
        if self.rate_limits["default"].prefixes:
            raise ValueError("the 'default' rate-limit group covers the rest; it names no prefixes")
        seen: set[str] = set()
        for limits in self.rate_limits.values():
            for prefix in limits.prefixes:
                if prefix in seen:
                    raise ValueError(f"{prefix} is in two rate-limit groups")
                seen.add(prefix)
        return self
