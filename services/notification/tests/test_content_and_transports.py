"""The pieces without the service around them: what an email says, and how sending failures
are sorted into transient and permanent."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from ticketing_common.facts import BookingConfirmed, BookingRefunded, Ticket
from ticketing_devkit.processes import free_port
from ticketing_notification.clients import EventDetails, Recipient
from ticketing_notification.content import Composer, money
from ticketing_notification.mime import build_message
from ticketing_notification.transports import PermanentSendError, SmtpTransport, TransientSendError

ADA = Recipient(email="ada@example.com", name="Ada")
GALA = EventDetails("Opera Gala", "Staatsoper", "Wien", datetime(2026, 12, 31, 18, tzinfo=UTC))


def confirmed(tickets: int = 2, currency: str = "EUR", amount: int = 12345) -> BookingConfirmed:
    return BookingConfirmed(
        booking_id="b-1",
        user_id="u-1",
        event_id="e-1",
        seat_ids=[f"A-1-{n}" for n in range(tickets)],
        amount_cents=amount,
        currency=currency,
        tickets=[
            Ticket(ticket_id=f"t-{n}", seat_id=f"A-1-{n}", secret=f"s-{n}") for n in range(tickets)
        ],
    )


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (12345, "EUR", "123.45 EUR"),
        (50000, "KRW", "50,000 KRW"),
        (1234, "jpy", "1,234 JPY"),
        (1500, "BHD", "1.500 BHD"),
    ],
)
def test_money_uses_the_currencys_minor_units(cents: int, currency: str, shown: str) -> None:
    assert money(cents, currency) == shown


def test_a_confirmation_references_one_inline_image_per_ticket() -> None:
    email = Composer("https://tickets.example").compose("booking.confirmed", confirmed(), ADA, GALA)
    assert email.subject == "Your tickets for Opera Gala"
    assert [image.cid for image in email.images] == ["qr-t-0@ticketing", "qr-t-1@ticketing"]
    assert email.html.count('src="cid:qr-t-') == 2
    assert "https://tickets.example/bookings/b-1" in email.text
    assert "<" not in email.text  # the text alternative is plain
    assert "are your 2 tickets" in email.html
    one = Composer("x").compose("booking.confirmed", confirmed(tickets=1), ADA, GALA)
    assert "is your ticket" in one.html

    message = build_message(email, "Ticketing <t@example.com>", "<id-1@x>")
    related = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1  # the HTML and its images travel together
    assert [p.get_content_type() for p in related[0].iter_parts()] == [
        "text/html",
        "image/png",
        "image/png",
    ]


def test_a_refund_states_the_amount() -> None:
    refund = BookingRefunded(**confirmed().model_dump(exclude={"tickets"}) | {"currency": "KRW"})
    email = Composer("x").compose("booking.refunded", refund, ADA, None)
    assert email.subject == "Your refund for your event"
    assert "refunded 12,345 KRW" in email.text
    assert email.images == []


class Refusing:
    """An SMTP server that refuses recipients with the given reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return self.reply


@pytest.fixture
def refusing() -> Iterator[Any]:
    servers: list[Controller] = []

    def start(reply: str) -> int:
        port = free_port()
        servers.append(Controller(Refusing(reply), hostname="127.0.0.1", port=port))
        servers[-1].start()
        return port

    yield start
    for server in servers:
        server.stop()


def a_message() -> Any:
    email = Composer("x").compose("booking.refunded", confirmed(), ADA, GALA)
    return build_message(email, "t@example.com", "<m@x>")


async def test_a_refused_mailbox_is_permanent(refusing: Any) -> None:
    transport = SmtpTransport("127.0.0.1", refusing("550 5.1.1 no such mailbox"))
    with pytest.raises(PermanentSendError, match="550"):
        await transport.send(a_message())


async def test_a_deferred_mailbox_is_transient(refusing: Any) -> None:
    transport = SmtpTransport("127.0.0.1", refusing("451 4.3.0 try again later"))
    with pytest.raises(TransientSendError, match="451"):
        await transport.send(a_message())


async def test_no_server_is_transient() -> None:
    transport = SmtpTransport("127.0.0.1", free_port(), timeout_s=2)
    with pytest.raises(TransientSendError, match="unavailable"):
        await transport.send(a_message())
