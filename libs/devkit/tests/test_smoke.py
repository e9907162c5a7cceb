"""The smoke test's own checks can fail: a stack that is not there, a ticket that is not genuine,
mail that is not there. (Its run against a real stack is test_dev_stack.py.)"""

from __future__ import annotations

import base64
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_devkit.mailcatcher import MailCatcher as RunningCatcher
from ticketing_devkit.processes import free_port
from ticketing_devkit.smoke import MailCatcher, SmokeFailed, main, verify_ticket


def test_no_stack_is_a_failure_that_says_how_to_start_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--gateway", f"http://127.0.0.1:{free_port()}", "--timeout", "1"]) == 1
    out = capsys.readouterr().out
    assert "[ 1] the stack is up (gateway /status) ... FAILED" in out
    assert "smoke: FAILED at step 1: nothing answers" in out
    assert "make dev" in out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_ticket_verifies_only_with_its_signature_intact() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    payload = b'{"v":1,"bid":"b1","eid":"e1","seat":"A-1-1"}'
    secret = f"{_b64(payload)}.{_b64(key.sign(payload))}"
    assert verify_ticket(secret, pem)["seat"] == "A-1-1"
    forged = f"{_b64(payload.replace(b'A-1-1', b'A-1-2'))}.{secret.split('.')[1]}"
    with pytest.raises(SmokeFailed, match="does not verify"):
        verify_ticket(forged, pem)
    other = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(SmokeFailed, match="does not verify"):
        verify_ticket(f"{_b64(payload)}.{_b64(other.sign(payload))}", pem)


@pytest.fixture
def catcher() -> Iterator[RunningCatcher]:
    running = RunningCatcher(smtp_port=free_port(), http_port=free_port()).start()
    yield running
    running.stop()


def test_it_finds_the_email_in_the_devkit_catcher(catcher: RunningCatcher) -> None:
    message = EmailMessage()
    message["Subject"] = "Your tickets for Smoke test 1"
    message["From"] = "tickets@ticketing.dev"
    message["To"] = "Ada <ada@ticketing.dev>"
    message.set_content("Seat A-1-1 (ticket t1)")
    message.add_alternative('<img src="cid:qr-t1@ticketing">', subtype="html")
    html = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
    html.add_related(b"\x89PNG", "image", "png", cid="<qr-t1@ticketing>", filename="t1.png")
    with smtplib.SMTP("127.0.0.1", catcher.smtp.port) as smtp:
        smtp.send_message(message)

    with httpx.Client(timeout=5) as client:
        mail = MailCatcher(client, f"http://127.0.0.1:{catcher.http.server_address[1]}")
        found = mail.find("ADA@ticketing.dev", "Smoke test 1")
        assert found is not None
        assert (found.subject, found.images) == ("Your tickets for Smoke test 1", 1)
        assert "ticket t1" in found.text
        assert mail.find("ada@ticketing.dev", "Smoke test 2") is None
        assert mail.find("bob@ticketing.dev", "Smoke test 1") is None
