from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from ticketing_common.settings import (
    ConsumerSettings,
    PostgresSettings,
    RedisSettings,
    ServiceSettings,
    local_database,
)


class NotificationSettings(ServiceSettings, PostgresSettings, RedisSettings, ConsumerSettings):
    service_name: str = "notification"
    # The log of sent notifications and the once-per-fact record.
    database_url: str = local_database("ticketing_notifications")

    # Peers: recipients come from auth, event details from events.
    auth_url: str = "http://127.0.0.1:8001"
    events_url: str = "http://127.0.0.1:8002"

    # Where links in the emails point (the customer-facing site).
    site_url: str = "http://127.0.0.1:8000"
    mail_from: str = "Ticketing <tickets@ticketing.dev>"

    # "smtp" (dev: the local mail catcher) or "ses" (production, Amazon SES v2).
    mail_transport: Literal["smtp", "ses"] = "smtp"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    # SES: credentials come from the environment / task role, as boto3 finds them.
    ses_region: str = "eu-west-1"
    ses_endpoint_url: str | None = None
    ses_configuration_set: str | None = None

    # The bus consumer: a mail server that is down is retried with back-off this many times
    # before the fact goes to the dead letters.
    bus_max_attempts: int = Field(default=10, ge=1)
    bus_backoff_s: float = Field(default=1.0, gt=0)
    bus_max_backoff_s: float = Field(default=120.0, gt=0)
