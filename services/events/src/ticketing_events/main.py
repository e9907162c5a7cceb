from __future__ import annotations

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.bus import Bus
from ticketing_common.database import Database
from ticketing_common.fastpath import serve_ahead_of_router
from ticketing_common.http_client import ServiceClient
from ticketing_common.outbox import OutboxRelay
from ticketing_common.redis import RedisClient
from ticketing_common.resources import provide

from ticketing_events.api import events_api, get_event, internal, list_events, seatmap, venues_api
from ticketing_events.catalog import Catalog
from ticketing_events.clients import InventoryClient
from ticketing_events.closing import InventoryCloser
from ticketing_events.readcache import ReadCache
from ticketing_events.seatmap import LayoutCache
from ticketing_events.settings import EventsSettings
from ticketing_events.tables import outbox
from ticketing_events.venues import VenueCache


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    settings = settings or EventsSettings()
    database = Database.from_settings(settings)
    redis = RedisClient.from_settings(settings)
    bus = Bus(redis, settings.service_name)
    services = ServiceClient.from_settings(settings, timeout_s=settings.inventory_timeout_s)
    inventory = InventoryClient(
        services,
        settings.inventory_url,
        layout_timeout_s=settings.inventory_layout_timeout_s,
        timeout_s=settings.inventory_timeout_s,
    )
    relay = OutboxRelay(database, outbox, bus, poll_interval_s=settings.outbox_poll_interval_s)
    closer = InventoryCloser(database, inventory, interval_s=settings.inventory_close_retry_s)
    app = create_service_app(
        settings,
        title="Events service",
        description="Venues, seat maps, events and price tiers. Publishing puts an event's "
        "seats into inventory; every change is announced as an event.* fact.",
        routers=[venues_api, events_api, internal],
        resources=[database, redis, bus, services],
        background=[relay.run, closer.run],
    )
    venues, reads = VenueCache(), ReadCache(settings.public_read_cache_ttl_s)
    catalog = Catalog(database, inventory, venues, reads, LayoutCache())
    provide(app, inventory, venues, reads, catalog)
    serve_ahead_of_router(app, events_api.routes, list_events, get_event, seatmap)
    return app
