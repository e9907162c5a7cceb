"""Twelve-factor settings: every knob is an environment variable, parsed and validated once."""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ticketing_common.logging import configure_logging

log = logging.getLogger(__name__)

DEV_SERVICE_TOKEN = "dev-service-token-not-for-production"  # noqa: S105 - refused in prod
_PRODUCTION = "production"


def production_secret(dev_value: str = "") -> Any:
    """A secret production must be given: its default is what dev and tests run with (empty: the
    service makes a throwaway one), and ServiceSettings refuses to exist with ENVIRONMENT=prod
    while it is missing or still that value."""
    return Field(default=SecretStr(dev_value), json_schema_extra={_PRODUCTION: True})


def production_setting(dev_value: str) -> Any:
    """A setting production must be given (a store's address, say): refused in production while
    it is still its development default."""
    return Field(default=dev_value, json_schema_extra={_PRODUCTION: True})


def local_database(name: str) -> Any:
    """A service's DATABASE_URL: database `name` on the local server in dev and tests; production
    must set it."""
    return production_setting(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")


class ServiceSettings(BaseSettings):
    """What every service reads. A service subclasses it and adds its own fields."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "service"
    environment: Literal["dev", "test", "prod"] = "dev"
    log_level: str = "INFO"

    # JWT verification: the auth service's JWKS, and what a token must claim.
    jwks_url: str | None = None
    jwks_refresh_interval_s: float = 300.0
    jwks_min_refetch_s: float = 10.0  # at most one fetch per interval for unknown kids
    jwt_issuer: str = "ticketing-auth"
    jwt_audience: str = "ticketing"

    # Shared secret that service-to-service calls on /internal/... carry.
    service_token: SecretStr = production_secret(DEV_SERVICE_TOKEN)

    # Tracing (ticketing_common.tracing): off unless one of these is set. OpenTelemetry to an
    # ADOT collector (OTLP/HTTP base URL, e.g. http://127.0.0.1:4318), or aws-xray-sdk to an X-Ray
    # daemon (host:port; the SDK's end of support is 2027-02-25). New traces are sampled at
    # TRACE_SAMPLE_RATE; an incoming sampling decision is always obeyed.
    otel_exporter_otlp_endpoint: str | None = None
    xray_daemon_address: str | None = None
    trace_sample_rate: float = Field(default=0.05, ge=0.0, le=1.0)

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # How old a public read that tolerates staleness may be when a browser or the CDN serves it
    # (an event, the listing, search): its Cache-Control max-age (http_cache.PublicCacheControl).
    public_cache_max_age_s: int = Field(default=5, ge=0, le=300)
    cors_origins: list[str] = []

    def model_post_init(self, context: Any, /) -> None:
        """Logging is configured once, first: as the service (or one of its jobs) reads its
        settings, before anything it builds can log."""
        configure_logging(self.service_name, self.log_level)

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> ServiceSettings:
        """The one rule for every service's secrets: in production, none is missing or left at
        its development value (the fields made with production_secret/production_setting, in
        whichever class of the service they are declared)."""
        if self.environment == "prod":
            unset = [name.upper() for name in self._left_at_dev_values()]
            if unset:
                raise ValueError(
                    f"{', '.join(unset)} must be set in production (missing, or the development "
                    "value)"
                )
        if self.otel_exporter_otlp_endpoint and self.xray_daemon_address:
            raise ValueError(
                "set OTEL_EXPORTER_OTLP_ENDPOINT (OpenTelemetry) or XRAY_DAEMON_ADDRESS "
                "(aws-xray-sdk), not both: a request is traced by one backend"
            )
        return self

    def _left_at_dev_values(self) -> list[str]:
        names = []
        for name, field in type(self).model_fields.items():
            extra = field.json_schema_extra
            if not isinstance(extra, dict) or not extra.get(_PRODUCTION):
                continue
            value, default = getattr(self, name), field.default
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(default, SecretStr):
                default = default.get_secret_value()
            if value is None or not str(value).strip() or value == default:
                names.append(name)
        return names


class PostgresSettings(BaseSettings):
    database_url: str = local_database("postgres")
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)


class RedisSettings(BaseSettings):
    redis_url: str = production_setting("redis://127.0.0.1:6379/0")
    redis_max_connections: int = Field(default=100, ge=1)
    # REDIS_URL names any node of a Redis Cluster (for RedisClient(cluster=True)).
    redis_cluster: bool = False


class ConsumerSettings(BaseSettings):
    """A service's bus consumer (ticketing_common.bus.Consumer): how often and how patiently a
    failed fact is retried before it goes to the dead letters, and how long a consumer that went
    silent keeps its messages before another member of the group claims them."""

    bus_max_attempts: int = Field(default=5, ge=1)
    bus_backoff_s: float = Field(default=0.5, gt=0)
    bus_max_backoff_s: float = Field(default=30.0, gt=0)
    bus_claim_idle_s: float = Field(default=30.0, gt=0)
