from __future__ import annotations

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.fastpath import serve_ahead_of_router
from ticketing_common.http_client import ServiceClient
from ticketing_common.redis import AnyRedis, RedisClient
from ticketing_common.resources import provide

from ticketing_inventory.api import availability_bits, create_hold, internal, router
from ticketing_inventory.clients import BookingClient, EventsClient
from ticketing_inventory.healer import Healer, HealerSettings
from ticketing_inventory.scripts import CallBatcher, Scripts
from ticketing_inventory.settings import InventorySettings
from ticketing_inventory.store import Inventory, Limits
from ticketing_inventory.sweeper import sweep_forever


async def load_inventory(settings: InventorySettings, redis: AnyRedis) -> Inventory:
    """The inventory over `redis`: the Lua calls of one event-loop turn go out as one pipeline
    (CallBatcher; bench/holds.py measured it against a call each)."""
    scripts = Scripts(redis)
    await scripts.load()
    limits = Limits(
        hold_ttl_ms=settings.hold_ttl_s * 1000,
        max_seats_per_hold=settings.max_seats_per_hold,
        max_active_holds_per_user=settings.max_active_holds_per_user,
        record_ttl_ms=settings.hold_record_retention_s * 1000,
    )
    return Inventory(redis, scripts, CallBatcher(redis), limits)


def healer_of(settings: InventorySettings, services: ServiceClient) -> Healer:
    timeout_s = settings.truth_timeout_s
    return Healer(
        EventsClient(services, settings.events_url, timeout_s=timeout_s),
        BookingClient(services, settings.booking_url, timeout_s=timeout_s),
        HealerSettings(
            interval_s=settings.heal_interval_s,
            events_refresh_s=settings.events_refresh_s,
            reconcile_interval_s=settings.reconcile_interval_s,
            reconcile_grace_s=settings.reconcile_grace_s,
            retry_after_s=settings.rebuild_retry_after_s,
            concurrency=settings.rebuild_concurrency,
        ),
    )


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    settings = settings or InventorySettings()
    redis = RedisClient.from_settings(settings)
    services = ServiceClient.from_settings(settings)
    healer = healer_of(settings, services)

    async def prepare(app: FastAPI) -> None:
        inventory = await load_inventory(settings, redis.connection)
        healer.attach(inventory)
        provide(app, inventory)

    app = create_service_app(
        settings,
        title="Inventory service",
        description="Seat and standing-capacity state and holds: all-or-nothing holds in Redis "
        "(one Lua script each), confirm, release, availability. Rebuilds its own state from "
        "events and booking after a cache loss.",
        routers=[router, internal],
        resources=[redis, services, healer],
        on_startup=[prepare],
        background=[sweep_forever, healer.watch, healer.reconcile_forever],
    )
    serve_ahead_of_router(app, router.routes, create_hold, availability_bits)
    return app
