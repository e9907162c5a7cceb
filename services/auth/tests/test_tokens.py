import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from ticketing_devkit.pytest_plugin import assert_problem, bearer
from ticketing_devkit.tokens import access_claims


def claims(**overrides: Any) -> dict[str, Any]:
    return access_claims("nobody", ttl_s=300) | overrides


# joserfc warns that RFC 9864 prefers the fully-specified "Ed25519" name over "EdDSA"; "EdDSA"
# is what PyJWT and most verifiers in the field understand today.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_access_token_verifies_with_an_independent_library(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = accounts.tokens(user["email"], user["password"])["access_token"]
    jwks = api.get("/jwks").json()
    decoded = jose_jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
    assert decoded.claims["sub"] == user["id"]
    assert decoded.claims["role"] == "customer"
    assert decoded.header["kid"] == "current"
    assert {"exp", "iat", "jti"} <= set(decoded.claims)


def test_jwks_keeps_retired_keys_until_their_tokens_expire(api: httpx.Client) -> None:
    kids = {key["kid"] for key in api.get("/jwks").json()["keys"]}
    assert kids == {"current", "previous"}  # "old" retired two days ago: its tokens are long dead


def test_a_token_from_the_recently_retired_key_still_works(
    accounts, api: httpx.Client, keys
) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = jwt.encode(
        claims(sub=user["id"]),
        keys.recently_retired,
        algorithm="EdDSA",
        headers={"kid": "previous"},
    )
    assert api.get("/me", headers=bearer(token)).status_code == 200


def test_a_token_from_a_long_retired_key_is_refused(accounts, api: httpx.Client, keys) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = jwt.encode(
        claims(sub=user["id"]), keys.long_retired, algorithm="EdDSA", headers={"kid": "old"}
    )
    assert_problem(api.get("/me", headers=bearer(token)), 401)


@pytest.mark.parametrize(
    ("case", "make"),
    [
        (
            "expired",
            lambda k: jwt.encode(
                claims(exp=int(time.time()) - 5),
                k.active,
                algorithm="EdDSA",
                headers={"kid": "current"},
            ),
        ),
        (
            "wrong audience",
            lambda k: jwt.encode(
                claims(aud="other"), k.active, algorithm="EdDSA", headers={"kid": "current"}
            ),
        ),
        (
            "another key",
            lambda k: jwt.encode(
                claims(),
                ed25519.Ed25519PrivateKey.generate(),
                algorithm="EdDSA",
                headers={"kid": "current"},
            ),
        ),
        (
            "alg none",
            lambda k: jwt.encode(claims(), None, algorithm="none", headers={"kid": "current"}),
        ),
        ("no kid", lambda k: jwt.encode(claims(), k.active, algorithm="EdDSA")),
        ("garbage", lambda k: "not.a.jwt"),
    ],
)
def test_bad_tokens_are_401(api: httpx.Client, keys, case: str, make) -> None:  # type: ignore[no-untyped-def]
    assert_problem(api.get("/me", headers=bearer(make(keys))), 401)


def test_tampered_token_is_401(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = accounts.tokens(user["email"], user["password"])["access_token"]
    header, payload, signature = token.split(".")
    forged = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b"customer", b"admin")
    ).decode()
    assert_problem(api.get("/me", headers=bearer(f"{header}.{forged}.{signature}")), 401)


def test_me_without_a_token_is_401(api: httpx.Client) -> None:
    assert_problem(api.get("/me"), 401)
