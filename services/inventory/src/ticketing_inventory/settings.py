from __future__ import annotations

from pydantic import Field
from ticketing_common.settings import RedisSettings, ServiceSettings


class InventorySettings(ServiceSettings, RedisSettings):
    service_name: str = "inventory"
    # Layouts of large venues arrive in one internal request (100,000 seats are ~6 MB of JSON).
    # The public hold route refuses bodies over MAX_HOLD_BODY_BYTES on its own.
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)

    hold_ttl_s: int = Field(default=600, ge=1, le=86_400)
    max_seats_per_hold: int = Field(default=10, ge=1, le=100)
    # Live holds one user may have on one event at a time.
    max_active_holds_per_user: int = Field(default=5, ge=1)
    # How long a hold's record outlives its TTL, so a late payment can still confirm it.
    hold_record_retention_s: int = Field(default=86_400, ge=3600)

    # The sweeper only tidies (expired claims already count as free everywhere).
    sweep_interval_s: float = Field(default=5.0, gt=0)
    sweep_batch: int = Field(default=1000, ge=1, le=5000)

    # Send the Lua calls that requests make in the same event-loop turn as one pipeline.

    # Where the truth lives when Redis loses it (healer.py): events (which events went on sale,
    # their layouts) and booking (what is sold, holds of bookings awaiting payment).
    events_url: str = "http://127.0.0.1:8002"
    booking_url: str = "http://127.0.0.1:8004"
    truth_timeout_s: float = Field(default=10.0, gt=0)
    # How often every event's state is checked, and the list of events on sale fetched again.
    heal_interval_s: float = Field(default=1.0, gt=0)
    events_refresh_s: float = Field(default=10.0, gt=0)
    rebuild_concurrency: int = Field(default=4, ge=1, le=64)
    # What a request about an event being rebuilt is told (seconds).
    rebuild_retry_after_s: int = Field(default=2, ge=1)
    # How often sales are compared with booking's durable claims, and how long a sale no booking
    # holds must stay so before it is released (a confirmation may be half-way).
    reconcile_interval_s: float = Field(default=60.0, gt=0)
    reconcile_grace_s: float = Field(default=30.0, ge=0)
