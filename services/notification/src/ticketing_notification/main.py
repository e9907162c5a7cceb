from __future__ import annotations

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.bus import Consumer
from ticketing_common.database import Database
from ticketing_common.http_client import ServiceClient
from ticketing_common.redis import RedisClient

from ticketing_notification.api import router
from ticketing_notification.clients import AuthClient, EventsClient
from ticketing_notification.content import Composer
from ticketing_notification.notifier import Notifier
from ticketing_notification.settings import NotificationSettings
from ticketing_notification.transports import MailTransport, SesTransport, SmtpTransport


def build_transport(settings: NotificationSettings) -> MailTransport:
    if settings.mail_transport == "ses":
        return SesTransport(
            settings.ses_region,
            endpoint_url=settings.ses_endpoint_url,
            configuration_set=settings.ses_configuration_set,
        )
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_s=settings.smtp_timeout_s,
    )


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    database = Database.from_settings(settings)
    redis = RedisClient.from_settings(settings)
    services = ServiceClient.from_settings(settings)
    transport = build_transport(settings)
    notifier = Notifier(
        database,
        AuthClient(services, settings.auth_url),
        EventsClient(services, settings.events_url),
        Composer(settings.site_url),
        transport,
        sender=settings.mail_from,
    )
    consumer = Consumer.from_settings(redis, "notification", notifier.subscriptions(), settings)
    return create_service_app(
        settings,
        title="Notification service",
        description="Emails for booking facts (tickets with QR codes, cancellations, refunds, "
        "failures), sent once per fact, and the log of what was sent.",
        routers=[router],
        resources=[database, redis, services, transport],
        background=[consumer.run],
    )
