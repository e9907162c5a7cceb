"""One email per booking fact, never two.

The record of a fact (unique on the envelope id) is created first. Sending happens while that
record is locked (FOR UPDATE NOWAIT) in a transaction that marks it sent: two workers never send
the same fact at once, and a fact whose record says `sent` is never sent again, however often it
is redelivered. The one window left is a crash after the mail server accepted the message and
before the commit; the message then carries the same Message-ID both times.
"""

from __future__ import annotations

import logging
from typing import Any

from ticketing_common.bus import PermanentFailure, Subscriptions
from ticketing_common.database import Database
from ticketing_common.facts import FACT_TYPES, BookingFact, Envelope

from ticketing_notification import repository
from ticketing_notification.clients import AuthClient, EventsClient, RecipientUnknown
from ticketing_notification.content import KINDS, Composer
from ticketing_notification.mime import build_message
from ticketing_notification.transports import MailTransport, PermanentSendError

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        database: Database,
        auth: AuthClient,
        events: EventsClient,
        composer: Composer,
        transport: MailTransport,
        *,
        sender: str,
    ) -> None:
        self.database = database
        self.auth = auth
        self.events = events
        self.composer = composer
        self.transport = transport
        self.sender = sender

    def subscriptions(self) -> Subscriptions:
        subscriptions = Subscriptions()
        for kind in sorted(KINDS):
            subscriptions.on_delivery(FACT_TYPES[kind], self.handle)
        return subscriptions

    async def handle(self, envelope: Envelope, fact: Any) -> None:
        if not isinstance(fact, BookingFact) or envelope.type not in KINDS:
            raise PermanentFailure(f"not a booking fact this service emails: {envelope.type}")
        async with self.database.engine.begin() as conn:
            await repository.claim(
                conn,
                envelope_id=envelope.id,
                kind=envelope.type,
                user_id=fact.user_id,
                booking_id=fact.booking_id,
            )
            if await repository.status(conn, envelope.id) == "sent":
                log.info("already sent; skipped", extra={"envelope_id": envelope.id})
                return
        try:
            recipient = await self.auth.recipient(fact.user_id)
        except RecipientUnknown:
            await self._failed(envelope, f"user {fact.user_id} is unknown to auth", final=True)
            raise PermanentFailure(f"no such user {fact.user_id}") from None
        event = await self.events.event(fact.event_id)
        email = self.composer.compose(envelope.type, fact, recipient, event)
        message = build_message(email, self.sender, f"<{envelope.id}@notification.ticketing>")
        try:
            async with self.database.engine.begin() as conn:
                if await repository.lock(conn, envelope.id) == "sent":
                    return  # another worker sent it while we composed
                provider_id = await self.transport.send(message)
                await repository.mark_sent(
                    conn,
                    envelope.id,
                    recipient=recipient.email,
                    subject=email.subject,
                    provider_message_id=provider_id,
                )
        except PermanentSendError as exc:
            await self._failed(envelope, str(exc), final=True)
            raise PermanentFailure(str(exc)) from exc
        except repository.Busy:
            raise  # retried later; by then the other worker has finished
        except Exception as exc:
            await self._failed(envelope, repr(exc), final=False)
            raise
        log.info(
            "email sent",
            extra={
                "kind": envelope.type,
                "booking_id": fact.booking_id,
                "envelope_id": envelope.id,
            },
        )

    async def _failed(self, envelope: Envelope, error: str, *, final: bool) -> None:
        async with self.database.engine.begin() as conn:
            await repository.record_failure(conn, envelope.id, error, final=final)
