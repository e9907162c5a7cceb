from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.bus import Bus, Consumer, Subscriptions
from ticketing_common.facts import EventCancelled, PaymentFailed, PaymentRefunded, PaymentSucceeded
from ticketing_common.fastpath import serve_ahead_of_router
from ticketing_common.http_client import ServiceClient
from ticketing_common.redis import RedisClient
from ticketing_common.resources import provide

from ticketing_booking.api import get_booking, internal, list_bookings, router
from ticketing_booking.clients import AuthClient, EventsClient, InventoryClient, PaymentClient
from ticketing_booking.console import SalesConsole
from ticketing_booking.console_api import console, door
from ticketing_booking.door import CheckInStore, Door
from ticketing_booking.dynamo import DynamoDB
from ticketing_booking.outbox import Outbox
from ticketing_booking.owners import EventOwners
from ticketing_booking.reconciler import PaymentReconciler
from ticketing_booking.saga import BookingSaga
from ticketing_booking.settings import BookingSettings
from ticketing_booking.store import BookingStore
from ticketing_booking.tickets import TicketSigner

log = logging.getLogger(__name__)


def create_app(settings: BookingSettings | None = None) -> FastAPI:
    settings = settings or BookingSettings()
    signer = TicketSigner.from_config(settings.ticket_signing_key.get_secret_value())
    dynamo = DynamoDB(settings)
    redis = RedisClient.from_settings(settings)
    bus = Bus(redis, settings.service_name)
    services = ServiceClient.from_settings(settings)
    outbox = Outbox(
        dynamo,
        bus,
        min_age_s=settings.outbox_min_age_s,
        interval_s=settings.outbox_relay_interval_s,
    )
    store = BookingStore(dynamo, outbox, confirmed_ttl_s=settings.confirmed_cache_ttl_s)
    inventory = InventoryClient(services, settings.inventory_url)
    events = EventsClient(services, settings.events_url)
    payments = PaymentClient(services, settings.payment_url)
    saga = BookingSaga(
        store,
        inventory,
        events,
        payments,
        signer,
        expiry_grace_s=settings.expiry_grace_s,
    )
    reconciler = PaymentReconciler(
        saga,
        payments,
        redis,
        interval_s=settings.reconcile_interval_s,
        settle_s=settings.reconcile_settle_s,
        lookback_s=settings.reconcile_lookback_s,
    )
    owners = EventOwners(events)
    checkins = CheckInStore(store)

    consumer = Consumer.from_settings(
        redis,
        "booking",
        Subscriptions()
        .on(PaymentSucceeded, saga.payment_succeeded)
        .on(PaymentFailed, saga.payment_failed)
        .on(PaymentRefunded, saga.payment_refunded)
        .on(EventCancelled, saga.event_cancelled),
        settings,
    )

    async def sweep_expired(app: FastAPI) -> None:
        while True:
            try:
                await saga.expire_due()
            except Exception:
                log.exception("expiry sweep failed; next round soon")
            await asyncio.sleep(settings.sweep_interval_s)

    app = create_service_app(
        settings,
        title="Booking service",
        description="Bookings and tickets: from a hold to a paid, confirmed booking.",
        routers=[router, console, door, internal],
        resources=[dynamo, redis, bus, services],
        background=[consumer.run, outbox.run, sweep_expired, reconciler.run],
    )
    sales_console = SalesConsole(
        saga,
        owners,
        inventory,
        AuthClient(services, settings.auth_url),
        checkins,
        summary_cache_s=settings.sales_summary_cache_s,
    )
    provide(app, saga, sales_console, Door(store, checkins, signer, owners))
    serve_ahead_of_router(app, router.routes, list_bookings, get_booking)
    return app
