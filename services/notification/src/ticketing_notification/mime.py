"""An Email as a MIME message: text and HTML alternatives, the HTML with its images related."""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from ticketing_notification.content import Email


def build_message(email: Email, sender: str, message_id: str) -> EmailMessage:
    """`message_id` is derived from the fact, so a copy sent twice in a crash window is
    recognisably the same message to the receiving side."""
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = Address(display_name=email.to.name, addr_spec=email.to.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    html_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
    for image in email.images:
        html_part.add_related(
            image.data,
            maintype="image",
            subtype="png",
            cid=f"<{image.cid}>",
            filename=image.filename,
            disposition="inline",
        )
    return message


def sender_address(mailbox: str) -> str:
    """The bare address of a `Name <address>` mailbox (what SES and SMTP's envelope want)."""
    return parseaddr(mailbox)[1]
