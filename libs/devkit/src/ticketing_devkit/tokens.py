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
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

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


def access_claims(
    sub: str | None = None, role: str = "customer", *, ttl_s: int = 600, **claims: Any
) -> dict[str, Any]:
    """The claims of an access token as auth issues them, for `sub` (a new user's when not
    given); a claim given as None is left out (to test its absence)."""
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
    return {k: v for k, v in body.items() if v is not None}


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
        """An access token with `access_claims(sub, role, ttl_s=ttl_s, **claims)`; `key` signs
        with a key the JWKS does not have."""
        kid = kid or self.active
        return sign(access_claims(sub, role, ttl_s=ttl_s, **claims), key or self.keys[kid], kid)

    def headers(
        self, sub: str | None = None, role: str = "customer", **claims: Any
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, role, **claims)}"}

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve the JWKS over HTTP (any path ending in /jwks; a thread of this process); yields
        its URL, also kept in `jwks_url`."""
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = self.path.split("?")[0].endswith("/jwks")
                body = json.dumps(issuer.jwks() if found else {"title": "Not Found"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.jwks_url = f"http://127.0.0.1:{server.server_address[1]}{JWKS_PATH}"
        try:
            yield self.jwks_url
        finally:
            self.jwks_url = ""
            server.shutdown()
            server.server_close()
