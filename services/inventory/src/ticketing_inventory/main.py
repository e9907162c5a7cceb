from __future__ import annotations

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.redis import RedisClient

from ticketing_inventory.api import create_hold, internal, router
from ticketing_inventory.fastpath import serve_ahead_of_router
from ticketing_inventory.scripts import CallBatcher, ScriptCaller, Scripts
from ticketing_inventory.settings import InventorySettings
from ticketing_inventory.store import Inventory, Limits
from ticketing_inventory.sweeper import sweep_forever


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    settings = settings or InventorySettings()
    redis = RedisClient(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        cluster=settings.redis_cluster,
    )
    limits = Limits(
        hold_ttl_ms=settings.hold_ttl_s * 1000,
        max_seats_per_hold=settings.max_seats_per_hold,
        max_active_holds_per_user=settings.max_active_holds_per_user,
        record_ttl_ms=settings.hold_record_retention_s * 1000,
    )

    async def prepare(app: FastAPI) -> None:
        scripts = Scripts(redis.connection)
        await scripts.load()
        call = CallBatcher(redis.connection) if settings.redis_batching else ScriptCaller()
        app.state.inventory = Inventory(redis.connection, scripts, call, limits)

    app = create_service_app(
        settings,
        title="Inventory service",
        description="Seat and standing-capacity state and holds: all-or-nothing holds in Redis "
        "(one Lua script each), confirm, release, availability.",
        routers=[router, internal],
        resources=[redis],
        on_startup=[prepare],
        background=[sweep_forever],
    )
    serve_ahead_of_router(app, router.routes, create_hold)
    return app
