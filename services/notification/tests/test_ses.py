"""The SES transport against moto's SES server (a real HTTP endpoint speaking the SES v2 API):
what it sends, checked as data in the server's record of sent messages."""

from collections.abc import Iterator
from email import policy
from email.parser import Parser
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends
from ticketing_common.facts import Envelope
from ticketing_devkit.processes import free_port
from ticketing_notification.content import qr_png

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def ses() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_ses_sends_the_raw_mime_message_once_the_sender_is_verified(
    ses: str, new_stack: Any
) -> None:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    settings = {"MAIL_TRANSPORT": "ses", "SES_ENDPOINT_URL": ses, "SES_REGION": REGION}
    with new_stack(**settings) as stack:
        user = stack.peers.add_user("Ada Lovelace")
        event_id = stack.peers.add_event("Metallica World Tour")

        # SES refuses an unverified sender: permanent, straight to the dead letters.
        refused = stack.publish(stack.fact("booking.failed", user["id"], event_id))
        (letter,) = stack.eventually(stack.dead_letters)
        assert Envelope.model_validate_json(letter[b"envelope"]).id == refused.id
        assert b"MessageRejected" in letter[b"error"]
        assert letter[b"attempts"] == b"1"

        backend.verify_email_identity("tickets@ticketing.dev")
        fact = stack.fact("booking.confirmed", user["id"], event_id, tickets=1)
        stack.publish(fact)
        sent = stack.eventually(
            lambda: [m for m in backend.sent_messages if user["email"] in str(m.destinations)]
        )
        assert len(sent) == 1
        assert sent[0].source == "tickets@ticketing.dev"
        assert sent[0].destinations[0] == user["email"]
        message = Parser(policy=policy.default).parsestr(sent[0].raw_data)
        assert message["Subject"] == "Your tickets for Metallica World Tour"
        assert message.get_body(("plain",)) is not None
        (image,) = [p for p in message.walk() if p.get_content_type() == "image/png"]
        assert image.get_content() == qr_png(fact.tickets[0].qr_payload)

        (entry,) = stack.notifications(user["id"]).json()
        assert entry["kind"] == "booking.confirmed"
