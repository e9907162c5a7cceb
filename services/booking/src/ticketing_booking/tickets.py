"""Tickets: one per seat, each with a secret a scanner verifies offline.

secret = base64url(payload) "." base64url(Ed25519 signature over payload), where payload is the
compact JSON {"v", "kid", "tid", "bid", "eid", "seat"}. Without the private key a secret cannot
be forged or guessed; with the public key (GET /api/v1/bookings/tickets/public-key) anyone can
check one. Signatures are deterministic, so re-issuing a booking's tickets gives the same ones.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import logging
import uuid
from typing import Any

import orjson
import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_common.facts import Ticket

from ticketing_booking.models import Booking

log = logging.getLogger(__name__)

TICKET_NAMESPACE = uuid.UUID("6f1c1d1e-7f0a-4c53-9a57-2d3b1f6f9a10")


class InvalidTicket(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TicketSigner:
    def __init__(self, private_key: ed25519.Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.public_key = private_key.public_key()
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.kid = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def from_config(cls, pem: str) -> TicketSigner:
        if not pem.strip():
            log.warning(
                "TICKET_SIGNING_KEY is not set: using a generated key; tickets issued now will "
                "not verify after a restart. Never run production like this."
            )
            return cls(ed25519.Ed25519PrivateKey.generate())
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("TICKET_SIGNING_KEY must be an Ed25519 private key (PEM)")
        return cls(key)

    def issue(self, booking: Booking) -> tuple[Ticket, ...]:
        tickets = []
        for index, seat_id in enumerate(booking.ticket_seats()):
            ticket_id = uuid.uuid5(TICKET_NAMESPACE, f"{booking.booking_id}:{index}").hex
            payload = orjson.dumps(
                {
                    "v": 1,
                    "kid": self.kid,
                    "tid": ticket_id,
                    "bid": booking.booking_id,
                    "eid": booking.event_id,
                    "seat": seat_id,
                }
            )
            secret = f"{_b64(payload)}.{_b64(self.private_key.sign(payload))}"
            tickets.append(Ticket(ticket_id=ticket_id, seat_id=seat_id, secret=secret))
        return tuple(tickets)

    def public_key_document(self) -> dict[str, Any]:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        return {
            "algorithm": "Ed25519",
            "kid": self.kid,
            "public_key_pem": pem,
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": self.kid},
            "secret_format": "base64url(payload JSON) '.' base64url(Ed25519 signature of payload)",
        }


def verify(secret: str, public_key: ed25519.Ed25519PublicKey) -> dict[str, Any]:
    """What a scanner does: check the signature, then read the payload."""
    try:
        encoded_payload, encoded_signature = secret.split(".")
        payload = _unb64(encoded_payload)
        public_key.verify(_unb64(encoded_signature), payload)
        claims: dict[str, Any] = orjson.loads(payload)
    except (ValueError, InvalidSignature, orjson.JSONDecodeError) as exc:
        raise InvalidTicket("the ticket secret is not genuine") from exc
    return claims


@functools.lru_cache(maxsize=2048)
def qr_svg(secret: str) -> str:
    """A ticket's QR code. Rendering one (a version-13 code, with segno choosing the mask that
    scans best) costs ~18 ms of CPU, and a customer opens their tickets again and again: secrets
    are deterministic, so each rendering is remembered (2,048 of ~7 KB each, per process)."""
    buffer = io.BytesIO()
    segno.make(secret, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
    return buffer.getvalue().decode()
