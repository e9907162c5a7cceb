"""Signing keys: the active key signs access tokens; retired keys stay published in the JWKS
until every token they signed has expired, so a rotation never logs anyone out."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from ticketing_common.signing import new_ed25519_pem

log = logging.getLogger(__name__)

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class KeyConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: PrivateKey
    retired_at: float | None = None

    @property
    def algorithm(self) -> str:
        return "EdDSA" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else "RS256"

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        jwk: dict[str, Any]
        if isinstance(public, ed25519.Ed25519PublicKey):
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


class KeyRing:
    def __init__(self, keys: list[SigningKey], access_token_ttl_s: int) -> None:
        active = [k for k in keys if k.retired_at is None]
        if not active:
            raise KeyConfigError("no active signing key (every key is retired)")
        if len({k.kid for k in keys}) != len(keys):
            raise KeyConfigError("signing key ids must be unique")
        self.active = active[0]
        self.keys = keys
        self.access_token_ttl_s = access_token_ttl_s

    @classmethod
    def from_config(cls, raw: str, access_token_ttl_s: int) -> KeyRing:
        if not raw.strip():
            log.warning(
                "SIGNING_KEYS is not set: using a generated key; tokens will not survive a "
                "restart. Never run production like this."
            )
            pem = new_ed25519_pem()
            raw = json.dumps([{"kid": f"dev-{uuid.uuid4().hex[:8]}", "private_key": pem}])
        try:
            entries = json.loads(raw)
            keys = [_parse_entry(entry) for entry in entries]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyConfigError(f"SIGNING_KEYS is invalid: {exc}") from exc
        return cls(keys, access_token_ttl_s)

    def jwks(self) -> dict[str, Any]:
        now = time.time()
        published = [
            k.public_jwk()
            for k in self.keys
            if k.retired_at is None or k.retired_at + self.access_token_ttl_s > now
        ]
        return {"keys": published}

    def sign(self, claims: dict[str, Any]) -> str:
        key = self.active
        return jwt.encode(
            claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid}
        )


def _parse_entry(entry: dict[str, Any]) -> SigningKey:
    private_key = serialization.load_pem_private_key(entry["private_key"].encode(), password=None)
    if not isinstance(private_key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise ValueError("signing keys must be Ed25519 or RSA")
    retired = entry.get("retired_at")
    retired_at = (
        datetime.fromisoformat(retired.replace("Z", "+00:00")).timestamp() if retired else None
    )
    return SigningKey(str(entry["kid"]), private_key, retired_at)
