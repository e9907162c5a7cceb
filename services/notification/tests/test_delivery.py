"""Never twice, retried when the mail server is down, dead-lettered when it cannot work."""

import asyncio
import time
from typing import Any

import redis
from ticketing_common.database import Database
from ticketing_common.facts import Envelope
from ticketing_common.http_client import ServiceClient
from ticketing_devkit.processes import free_port
from ticketing_notification.clients import AuthClient, EventsClient
from ticketing_notification.content import Composer
from ticketing_notification.notifier import Notifier
from ticketing_notification.repository import Busy
from ticketing_notification.transports import SmtpTransport

Stack = Any  # the `stack` fixture (conftest)
Catcher = Any  # the `catcher` fixture (conftest)


def test_redelivered_facts_are_not_sent_again(stack: Stack, catcher: Catcher) -> None:
    user = stack.peers.add_user()
    event_id = stack.peers.add_event()
    envelope = Envelope.of(stack.fact("booking.confirmed", user["id"], event_id), "booking")
    stack.publish_envelope(envelope)
    stack.publish_envelope(envelope)  # a producer's relay published it twice
    stack.eventually(lambda: catcher.to(user["email"]))

    # The bus's own dedupe marker is gone (expired, or Redis failed over): the fact comes again
    # and only the notification record stands between it and a second email.
    stack.bus.delete(f"bus:done:notification:{envelope.id}")
    stack.publish_envelope(envelope)
    marker = stack.fact("booking.failed", user["id"], event_id)  # handled after the redelivery
    stack.publish(marker)
    stack.eventually(lambda: len(catcher.to(user["email"])) == 2)
    time.sleep(0.3)
    subjects = [m["Subject"] for m in catcher.to(user["email"])]
    assert subjects == ["Your tickets for Metallica World Tour", subjects[1]]
    assert subjects[1].endswith("did not go through")
    kinds = [n["kind"] for n in stack.notifications(user["id"]).json()]
    assert sorted(kinds) == ["booking.confirmed", "booking.failed"]


async def test_concurrent_deliveries_of_one_fact_send_one_email(
    stack: Stack, catcher: Catcher
) -> None:
    """Two workers holding the same fact at once (a takeover of a message presumed abandoned):
    the record's row lock lets one send; the other backs off (Busy) or finds it sent."""
    user = stack.peers.add_user()
    event_id = stack.peers.add_event()
    fact = stack.fact("booking.confirmed", user["id"], event_id, tickets=1)
    envelope = Envelope.of(fact, "booking")
    database = Database(stack.env["DATABASE_URL"])
    services = ServiceClient("dev-service-token-not-for-production")
    await database.start()
    await services.start()
    try:
        notifier = Notifier(
            database,
            AuthClient(services, stack.peers.url),
            EventsClient(services, stack.peers.url),
            Composer("http://127.0.0.1"),
            SmtpTransport("127.0.0.1", catcher.smtp_port),
            sender="tickets@ticketing.dev",
        )
        outcomes = await asyncio.gather(
            *(notifier.handle(envelope, fact) for _ in range(6)), return_exceptions=True
        )
        assert all(outcome is None or isinstance(outcome, Busy) for outcome in outcomes), outcomes
        # Whoever was busy retries later and finds it sent.
        await notifier.handle(envelope, fact)
    finally:
        await services.stop()
        await database.stop()
    await asyncio.sleep(0.2)
    assert len(catcher.to(user["email"])) == 1


def test_an_unknown_recipient_is_dead_lettered_at_once(stack: Stack, catcher: Catcher) -> None:
    event_id = stack.peers.add_event()
    before = len(stack.dead_letters())
    envelope = stack.publish(stack.fact("booking.confirmed", "nobody-knows-me", event_id))
    letters = stack.eventually(lambda: stack.dead_letters()[before:])
    assert Envelope.model_validate_json(letters[0][b"envelope"]).id == envelope.id
    assert letters[0][b"attempts"] == b"1"  # permanent: not retried
    assert b"no such user" in letters[0][b"error"]


def test_a_mail_server_that_is_down_is_retried_until_it_is_back(
    new_stack: Any, new_catcher: Any
) -> None:
    smtp_port = free_port()  # nothing listens here yet
    with new_stack(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port)) as stack:
        user = stack.peers.add_user()
        event_id = stack.peers.add_event()
        stack.publish(stack.fact("booking.confirmed", user["id"], event_id))
        bus = redis.Redis.from_url(stack.env["REDIS_URL"])

        def retried() -> bool:
            pending = bus.xpending_range("facts:booking", "notification", "-", "+", 10)
            return bool(pending) and pending[0]["times_delivered"] >= 3

        stack.eventually(retried)
        assert stack.dead_letters() == []
        catcher = new_catcher(smtp_port)  # the mail server comes back
        (message,) = stack.eventually(lambda: catcher.to(user["email"]))
        assert message["Subject"] == "Your tickets for Metallica World Tour"
        assert len(stack.notifications(user["id"]).json()) == 1
        time.sleep(1.0)  # later retries do not send it again
        assert len(catcher.to(user["email"])) == 1
        bus.close()


def test_the_message_id_is_derived_from_the_fact(stack: Stack, catcher: Catcher) -> None:
    user = stack.peers.add_user()
    envelope = stack.publish(stack.fact("booking.refunded", user["id"], stack.peers.add_event()))
    (message,) = stack.eventually(lambda: catcher.to(user["email"]))
    assert message["Message-ID"] == f"<{envelope.id}@notification.ticketing>"
