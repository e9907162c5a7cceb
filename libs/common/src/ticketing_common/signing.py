"""The platform's signing keys: Ed25519, PEM (PKCS #8), as auth's SIGNING_KEYS entries, booking's
TICKET_SIGNING_KEY and the gateway's WAITING_ROOM_SIGNING_KEY hold them. (A module of its own, on
cryptography alone: `make dev` and the load test make keys without loading the web stack.)"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def new_ed25519_pem() -> str:
    """A new Ed25519 private key, PEM."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
