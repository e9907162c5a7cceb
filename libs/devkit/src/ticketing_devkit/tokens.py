"""The one fake token issuer the tests and benchmarks use: it plays the auth service, signing
access tokens as auth does (EdDSA, `kid` in the header, auth's issuer and audience) and serving
its JWKS over real HTTP.

    issuer = FakeIssuer()
    with issuer.serve() as jwks_url:            # JWKS_URL for the service under test
        headers = issuer.headers("user-1", role="organizer")

`rotate()` adds a key (the new one signs); `fetches` counts what verifiers fetched.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ticketing_devkit.processes import serve_app

ISSUER = "ticketing-auth"
AUDIENCE = "ticketing"
JWKS_PATH = "/api/v1/auth/jwks"  # where auth serves it; any path ending in /jwks answers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: ed25519.Ed25519PrivateKey, kid: str) -> dict[str, str]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": kid, "alg": "EdDSA"} | {
        "use": "sig"
    }


def sign(claims: dict[str, Any], key: ed25519.Ed25519PrivateKey, kid: str | None) -> str:
    """A compact JWS (EdDSA), as pyjwt's `jwt.encode` makes it."""
    header: dict[str, str] = {"alg": "EdDSA", "typ": "JWT"} | ({"kid": kid} if kid else {})
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    return signing_input + "." + _b64(key.sign(signing_input.encode()))


class FakeIssuer:
    def __init__(self, kid: str | None = None) -> None:
        self.keys: dict[str, ed25519.Ed25519PrivateKey] = {}
        self.fetches = 0
        self.jwks_url = ""  # set while serve() runs
        self.rotate(kid)

    def rotate(self, kid: str | None = None) -> str:
        kid = kid or uuid.uuid4().hex[:8]
        self.keys[kid] = ed25519.Ed25519PrivateKey.generate()
        self.active = kid
        return kid

    @property
    def key(self) -> ed25519.Ed25519PrivateKey:
        return self.keys[self.active]

    def jwks(self) -> dict[str, Any]:
        """The JWKS, as auth serves it; each call counts as a fetch."""
        self.fetches += 1
        return {"keys": [public_jwk(key, kid) for kid, key in self.keys.items()]}

    def token(
        self,
        sub: str | None = None,
        role: str = "customer",
        *,
        key: ed25519.Ed25519PrivateKey | None = None,
        kid: str | None = None,
        ttl_s: int = 600,
        **claims: Any,
    ) -> str:
        """An access token for `sub` (a new user's when not given); a claim given as None is
        left out (to test its absence); `key` signs with a key the JWKS does not have."""
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub or f"user-{uuid.uuid4().hex[:8]}",
            "role": role,
            "iat": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
        } | claims
        kid = kid or self.active
        return sign({k: v for k, v in body.items() if v is not None}, key or self.keys[kid], kid)

    def headers(
        self, sub: str | None = None, role: str = "customer", **claims: Any
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, role, **claims)}"}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The JWKS as an ASGI app (any path ending in /jwks)."""
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        found = scope["path"].endswith("/jwks")
        body = json.dumps(self.jwks() if found else {"title": "Not Found"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200 if found else 404,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve the JWKS over HTTP; yields its URL (also kept in `jwks_url`)."""
        with serve_app(self) as url:
            self.jwks_url = url + JWKS_PATH
            try:
                yield self.jwks_url
            finally:
                self.jwks_url = ""
