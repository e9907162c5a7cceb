"""The fake issuer signs as auth does and serves its JWKS over HTTP (the shared library's own
tests verify its tokens with the real TokenVerifier: libs/common/tests/test_security.py)."""

from __future__ import annotations

import base64
import json

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_devkit.tokens import FakeIssuer


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_a_token_is_signed_by_the_active_key_its_header_names() -> None:
    issuer = FakeIssuer()
    header, claims, signature = issuer.token("u-1", "organizer", organizer_id=None).split(".")
    head, body = json.loads(_decode(header)), json.loads(_decode(claims))
    assert head == {"alg": "EdDSA", "typ": "JWT", "kid": issuer.active}
    assert (body["sub"], body["role"], body["iss"], body["aud"]) == (
        "u-1",
        "organizer",
        "ticketing-auth",
        "ticketing",
    )
    assert "organizer_id" not in body  # None leaves a claim out
    public = ed25519.Ed25519PublicKey.from_public_bytes(_decode(issuer.jwks()["keys"][0]["x"]))
    public.verify(_decode(signature), f"{header}.{claims}".encode())  # raises if forged


def test_the_jwks_is_served_over_http_and_counts_its_fetches() -> None:
    issuer = FakeIssuer()
    with issuer.serve() as url:
        old = issuer.active
        new = issuer.rotate()
        keys = httpx.get(url).json()["keys"]
        assert {key["kid"] for key in keys} == {old, new}
        assert httpx.get(url.replace("/jwks", "/other")).status_code == 404
    assert issuer.fetches == 1
    assert issuer.headers("u-2")["Authorization"].startswith("Bearer ")
