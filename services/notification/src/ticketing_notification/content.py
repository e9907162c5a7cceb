"""What each email says: subject, HTML and text bodies from the Jinja2 templates in
`templates/`, and the tickets' QR codes.

QR codes travel as PNG images inside the message (multipart/related), referenced from the HTML
by `cid:`. That is what mail clients render: Gmail and Outlook show neither SVG nor `data:`
URIs, while cid-referenced PNGs display in Gmail, Outlook, Apple Mail and Thunderbird. Each
image also has a file name, so it can be saved (or printed) on its own.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from ticketing_common.facts import (
    BookingCancelled,
    BookingConfirmed,
    BookingFact,
    BookingFailed,
    BookingRefunded,
)

from ticketing_notification.clients import EventDetails, Recipient

SUBJECTS = {
    BookingConfirmed.type: "Your tickets for {title}",
    BookingCancelled.type: "Your booking for {title} is cancelled",
    BookingRefunded.type: "Your refund for {title}",
    BookingFailed.type: "Your booking for {title} did not go through",
}
# The facts that become an email. booking.expired does not: it means checkout was abandoned
# (no money moved), and a late payment after it is answered by a confirmed or refunded email.
KINDS = frozenset(SUBJECTS)

# ISO 4217 minor units that are not 2 (money is integer minor units).
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def money(amount_cents: int, currency: str) -> str:
    digits = _EXPONENTS.get(currency.upper(), 2)
    return f"{amount_cents / 10**digits:,.{digits}f} {currency.upper()}"


@dataclass(frozen=True)
class InlineImage:
    cid: str
    data: bytes
    filename: str


@dataclass(frozen=True)
class Email:
    to: Recipient
    subject: str
    text: str
    html: str
    images: list[InlineImage] = field(default_factory=list)


def qr_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    # Error correction M survives a scratched phone screen; scale 6 prints at ~3 cm.
    segno.make(payload, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


class Composer:
    def __init__(self, site_url: str) -> None:
        self.site_url = site_url.rstrip("/")
        self.templates = Environment(
            loader=PackageLoader("ticketing_notification", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",)),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self.templates.filters["money"] = lambda cents, currency: money(cents, currency)

    def compose(
        self, kind: str, fact: BookingFact, recipient: Recipient, event: EventDetails | None
    ) -> Email:
        title = event.title if event else "your event"
        subject = _one_line(SUBJECTS[kind].format(title=title))
        images = []
        tickets: list[dict[str, Any]] = []
        if isinstance(fact, BookingConfirmed):
            for ticket in fact.tickets:
                cid = f"qr-{ticket.ticket_id}@ticketing"
                images.append(
                    InlineImage(cid, qr_png(ticket.qr_payload), f"ticket-{ticket.ticket_id}.png")
                )
                tickets.append(
                    {"ticket_id": ticket.ticket_id, "seat_id": ticket.seat_id, "cid": cid}
                )
        context = {
            "subject": subject,
            "recipient": recipient,
            "event": event,
            "booking": fact,
            "tickets": tickets,
            "booking_url": f"{self.site_url}/bookings/{fact.booking_id}",
        }
        return Email(
            to=recipient,
            subject=subject,
            text=self.templates.get_template(f"{kind}.txt").render(context),
            html=self.templates.get_template(f"{kind}.html").render(context),
            images=images,
        )


def _one_line(text: str) -> str:
    """Header-safe: a title with line breaks must not become extra headers."""
    return re.sub(r"\s+", " ", text).strip()
