"""Admission tokens: what an admitted shopper shows the gateway on holds and bookings.

An EdDSA (Ed25519) JWT the gateway signs: `sub` the account, `evt` the event, `jti` this
admission, `exp` the end of the shopping time, `rep` the room state it was issued in (see
waiting_room.py: a token from before a Redis loss is accepted on its signature). Anyone can
verify it offline with the public key at /api/v1/waiting-room/keys.

Queue receipts are what a waiting person keeps: their place (the queue score), MACed with a key
derived from the signing key, so that a room that lost its state can put them back where they
were (waiting_room.py, "Failure").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

log = logging.getLogger(__name__)

ISSUER = "ticketing-gateway"
AUDIENCE = "ticketing-waiting-room"
ALGORITHM = "EdDSA"


class InvalidAdmission(Exception):
    """The admission token is not one we accept; the message says why (safe to show)."""


@dataclass(frozen=True, slots=True)
class Admission:
    account: str
    event_id: str
    jti: str
    epoch: str  # the room state that issued it
    admitted_at_us: int
    until_us: int


class AdmissionKeys:
    """The Ed25519 key that signs admission tokens, its JWKS, and the receipts' MAC key."""

    def __init__(self, private_key: ed25519.Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.public_key = private_key.public_key()
        raw_public = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.kid = hashlib.sha256(raw_public).hexdigest()[:16]
        raw_private = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        # Derived, never the signing key itself: one secret to configure, two uses kept apart.
        self._mac_key = hmac.new(raw_private, b"waiting-room receipts v1", "sha256").digest()
        self._draw_key = hmac.new(raw_private, b"waiting-room draws v1", "sha256").digest()
        self.jwks: dict[str, Any] = {
            "keys": [
                {
                    **OKPAlgorithm.to_jwk(self.public_key, as_dict=True),
                    "kid": self.kid,
                    "alg": ALGORITHM,
                    "use": "sig",
                }
            ]
        }

    @classmethod
    def from_config(cls, pem: str) -> AdmissionKeys:
        """PEM Ed25519 private key. Empty: a throwaway key (dev and tests only; the settings
        refuse production without one): tokens issued before a restart no longer verify, and
        replicas would not accept each other's."""
        if not pem.strip():
            log.warning(
                "WAITING_ROOM_SIGNING_KEY is not set: using a generated key; admission tokens "
                "will not verify after a restart. Never run production like this."
            )
            return cls(ed25519.Ed25519PrivateKey.generate())
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("WAITING_ROOM_SIGNING_KEY must be an Ed25519 private key (PEM)")
        return cls(key)

    # --- tokens -----------------------------------------------------------------------------

    def sign(self, admission: Admission) -> str:
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": admission.account,
            "evt": admission.event_id,
            "jti": admission.jti,
            "rep": admission.epoch,
            "iat": admission.admitted_at_us // 1_000_000,
            "exp": admission.until_us // 1_000_000,
        }
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(
        self, token: str, *, account: str, event_id: str, now_s: float | None = None
    ) -> Admission:
        """The admission a token proves, for this account and this event, at `now_s` (the
        room's clock; default now); raises InvalidAdmission otherwise (forged, unsigned,
        another algorithm, expired, someone else's, another event's)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidAdmission("The admission token is malformed") from exc
        if header.get("alg") != ALGORITHM or header.get("kid") != self.kid:
            raise InvalidAdmission("The admission token was not signed by this waiting room")
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": ["exp", "iat", "sub", "jti", "evt", "rep"],
                    "verify_exp": False,  # against the room's clock, below
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidAdmission("The admission token is invalid") from exc
        if not isinstance(claims["exp"], int) or claims["exp"] <= (
            time.time() if now_s is None else now_s
        ):
            raise InvalidAdmission("The admission token has expired: your shopping time is over")
        if claims["sub"] != account:
            raise InvalidAdmission("The admission token belongs to another account")
        if claims["evt"] != event_id:
            raise InvalidAdmission("The admission token is for another event")
        return Admission(
            account=account,
            event_id=event_id,
            jti=str(claims["jti"]),
            epoch=str(claims["rep"]),
            admitted_at_us=int(claims["iat"]) * 1_000_000,
            until_us=int(claims["exp"]) * 1_000_000,
        )

    # --- places -----------------------------------------------------------------------------

    def draw(self, event_id: str, opens_at_us: int, account: str) -> int:
        """An early arrival's place in the opening's random order: uniform in [0, 2**48),
        unknowable without the key, and the same however often the account joins (refreshing
        or leaving and coming back buys nothing). A new opening time draws anew."""
        digest = hmac.new(
            self._draw_key, f"{event_id}|{opens_at_us}|{account}".encode(), "sha256"
        ).digest()
        return int.from_bytes(digest[:6], "big")

    def receipt(self, event_id: str, account: str, score: int, epoch: str) -> str:
        body = f"{score}.{epoch}"
        return f"{body}.{self._mac(event_id, account, body)}"

    def read_receipt(self, receipt: str, *, event_id: str, account: str) -> tuple[int, str] | None:
        """(score, epoch) of a receipt this room gave this account for this event, else None."""
        parts = receipt.split(".")
        if len(parts) != 3 or len(receipt) > 200:
            return None
        score, epoch, mac = parts
        body = f"{score}.{epoch}"
        if not hmac.compare_digest(mac, self._mac(event_id, account, body)):
            return None
        try:
            return int(score), epoch
        except ValueError:
            return None

    def _mac(self, event_id: str, account: str, body: str) -> str:
        digest = hmac.new(self._mac_key, f"{event_id}|{account}|{body}".encode(), "sha256")
        return base64.urlsafe_b64encode(digest.digest()[:16]).rstrip(b"=").decode()
