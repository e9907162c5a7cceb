from __future__ import annotations

from pydantic import Field, SecretStr
from ticketing_common.settings import (
    PostgresSettings,
    RedisSettings,
    ServiceSettings,
    local_database,
)


class EventsSettings(ServiceSettings, PostgresSettings, RedisSettings):
    service_name: str = "events"
    database_url: str = local_database("ticketing_events")

    # The inventory service: publish initialises an event's seats there, cancel closes them,
    # and the seat map reads its availability.
    inventory_url: str = "http://127.0.0.1:8003"
    inventory_timeout_s: float = Field(default=5.0, gt=0)
    # A stadium's layout is tens of thousands of seats: initialising it may take longer.
    inventory_layout_timeout_s: float = Field(default=60.0, gt=0)
    # How often cancelled events whose inventory could not be closed yet are retried.
    inventory_close_retry_s: float = Field(default=5.0, gt=0)

    # How long a public read (an event, a page of the listing) is served from memory. Changes
    # made through this instance clear it at once; other instances see them within this time.
    # 0 turns it off.
    public_read_cache_ttl_s: float = Field(default=2.0, ge=0)

    # How often the outbox relay polls for facts to publish.
    outbox_poll_interval_s: float = Field(default=0.1, gt=0)


class SeedSettings(EventsSettings):
    """What `python -m ticketing_events seed` needs on top of the service's settings."""

    auth_url: str = "http://127.0.0.1:8001"
    admin_email: str | None = None
    admin_password: SecretStr | None = None
