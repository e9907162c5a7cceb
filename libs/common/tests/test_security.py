import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import APIRouter, FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.security import CurrentUser, DoorUser, OptionalUser, OrganizerUser
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import serve_app
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_devkit.tokens import FakeIssuer

router = APIRouter()


@router.get("/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"user_id": user.user_id, "role": user.role}


@router.get("/maybe")
async def maybe(user: OptionalUser) -> dict[str, str | None]:
    return {"user_id": user.user_id if user else None}


@router.get("/organizers-only")
async def organizers(user: OrganizerUser) -> dict[str, str]:
    return {"user_id": user.user_id}


@router.get("/door/{organizer_id}")
async def door(organizer_id: str, user: DoorUser) -> dict[str, bool]:
    return {"acts_for": user.acts_for(organizer_id)}


@pytest.fixture(scope="module")
def issuer() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture(scope="module")
def base_url(issuer: FakeIssuer) -> Iterator[str]:
    jwks_app = FastAPI()
    jwks_app.get("/jwks")(issuer.jwks)
    with serve_app(jwks_app) as jwks_url:
        settings = ServiceSettings(
            service_name="t", jwks_url=f"{jwks_url}/jwks", jwks_min_refetch_s=1.0
        )
        with serve_app(create_service_app(settings, title="t", routers=[router])) as url:
            yield url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token_identifies_the_caller(base_url: str, issuer: FakeIssuer) -> None:
    response = httpx.get(f"{base_url}/me", headers=bearer(issuer.token(sub="u-42", role="admin")))
    assert response.json() == {"user_id": "u-42", "role": "admin"}


def test_missing_token_is_401(base_url: str) -> None:
    response = httpx.get(f"{base_url}/me")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_optional_user_allows_anonymous_but_not_bad_tokens(
    base_url: str, issuer: FakeIssuer
) -> None:
    assert httpx.get(f"{base_url}/maybe").json() == {"user_id": None}
    assert_problem(httpx.get(f"{base_url}/maybe", headers=bearer("garbage")), 401)


def test_role_requirement_is_403(base_url: str, issuer: FakeIssuer) -> None:
    assert_problem(httpx.get(f"{base_url}/organizers-only", headers=bearer(issuer.token())), 403)
    ok = httpx.get(f"{base_url}/organizers-only", headers=bearer(issuer.token(role="organizer")))
    assert ok.status_code == 200


def test_staff_act_for_their_organizer_only(base_url: str, issuer: FakeIssuer) -> None:
    def acts_for(organizer: str, **claims: Any) -> Any:
        response = httpx.get(f"{base_url}/door/{organizer}", headers=bearer(issuer.token(**claims)))
        return response.json()["acts_for"] if response.status_code == 200 else response.status_code

    assert acts_for("org-1", role="staff", organizer_id="org-1") is True
    assert acts_for("org-2", role="staff", organizer_id="org-1") is False
    assert acts_for("org-1", role="organizer", sub="org-1") is True
    assert acts_for("org-2", role="organizer", sub="org-1") is False
    assert acts_for("org-2", role="admin") is True
    assert acts_for("org-1", role="customer", sub="org-1") == 403  # a demoted organizer
    # A staff token that names no organizer is not a token this platform issues.
    assert acts_for("org-1", role="staff") == 401
    # Staff are not organizers.
    staff = issuer.token(role="staff", organizer_id="org-1")
    assert_problem(httpx.get(f"{base_url}/organizers-only", headers=bearer(staff)), 403)


def test_expired_token_is_401(base_url: str, issuer: FakeIssuer) -> None:
    token = issuer.token(exp=int(time.time()) - 10)
    assert_problem(
        httpx.get(f"{base_url}/me", headers=bearer(token)), 401, detail="The token has expired"
    )


def test_tampered_token_is_401(base_url: str, issuer: FakeIssuer) -> None:
    header, _, signature = issuer.token().split(".")
    forged_claims = jwt.utils.base64url_encode(
        b'{"sub":"admin","role":"admin","exp":9999999999}'
    ).decode()
    assert_problem(
        httpx.get(f"{base_url}/me", headers=bearer(f"{header}.{forged_claims}.{signature}")), 401
    )


def test_alg_none_is_401(base_url: str, issuer: FakeIssuer) -> None:
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "x",
            "role": "admin",
            "aud": "ticketing",
            "iss": "ticketing-auth",
            "iat": now,
            "exp": now + 60,
            "jti": "j",
        },
        None,
        algorithm="none",
        headers={"kid": issuer.active},
    )
    assert_problem(httpx.get(f"{base_url}/me", headers=bearer(token)), 401)


def test_hs256_with_the_public_key_as_secret_is_401(base_url: str, issuer: FakeIssuer) -> None:
    token = jwt.encode(
        {"sub": "x", "role": "admin"},
        "the-public-key-used-as-an-hmac-secret",
        algorithm="HS256",
        headers={"kid": issuer.active},
    )
    assert_problem(httpx.get(f"{base_url}/me", headers=bearer(token)), 401)


def test_token_signed_by_another_key_is_401(base_url: str, issuer: FakeIssuer) -> None:
    stranger = ed25519.Ed25519PrivateKey.generate()
    token = issuer.token(key=stranger)  # claims the active kid, signed by someone else
    assert_problem(httpx.get(f"{base_url}/me", headers=bearer(token)), 401)


@pytest.mark.parametrize(
    "claims",
    [{"aud": "another-platform"}, {"iss": "someone-else"}, {"role": "superuser"}, {"jti": None}],
)
def test_wrong_claims_are_401(base_url: str, issuer: FakeIssuer, claims: dict[str, Any]) -> None:
    assert_problem(httpx.get(f"{base_url}/me", headers=bearer(issuer.token(**claims))), 401)


def test_rotated_key_is_fetched_on_unknown_kid_but_random_kids_do_not_hammer(
    base_url: str, issuer: FakeIssuer
) -> None:
    time.sleep(1.1)  # past the verifier's minimum refetch interval (1 s in this fixture)
    new_kid = issuer.rotate()
    before = issuer.fetches
    response = httpx.get(f"{base_url}/me", headers=bearer(issuer.token(kid=new_kid, sub="rotated")))
    assert response.status_code == 200, response.text
    assert issuer.fetches == before + 1
    for index in range(5):
        stranger = ed25519.Ed25519PrivateKey.generate()
        token = issuer.token(key=stranger, kid=f"random-{index}")
        assert_problem(httpx.get(f"{base_url}/me", headers=bearer(token)), 401)
    assert issuer.fetches == before + 1


async def test_requests_during_a_jwks_fetch_wait_for_it_instead_of_failing() -> None:
    """Many requests with a new kid arrive while one fetch is in flight: all of them verify."""
    import asyncio

    from ticketing_common.security import JwksKeySource

    issuer = FakeIssuer()
    gate = asyncio.Event()
    app = FastAPI()

    @app.get("/jwks")
    async def slow_jwks() -> dict[str, Any]:
        await gate.wait()
        return issuer.jwks()

    with serve_app(app) as url:
        source = JwksKeySource(f"{url}/jwks", min_refetch_s=60)
        await source.open()
        try:
            lookups = [asyncio.create_task(source.key_for(issuer.active)) for _ in range(20)]
            await asyncio.sleep(0.2)
            gate.set()
            keys = await asyncio.gather(*lookups)
        finally:
            await source.close()
    assert all(key is not None for key in keys)
    assert issuer.fetches == 1


async def test_before_the_first_successful_fetch_retries_are_not_held_back() -> None:
    """A service that started before auth: the failed first fetch must not block keys for
    `min_refetch_s` (10 s by default) once auth is up."""
    import asyncio

    from ticketing_common.security import JwksKeySource
    from ticketing_devkit.processes import free_port

    issuer = FakeIssuer()
    port = free_port()
    source = JwksKeySource(f"http://127.0.0.1:{port}/jwks", min_refetch_s=60, timeout_s=0.5)
    await source.open()
    try:
        assert await source.key_for(issuer.active) is None  # auth is not up yet
        app = FastAPI()
        app.get("/jwks")(issuer.jwks)
        with serve_app(app, port=port):
            await asyncio.sleep(1.05)
            assert await source.key_for(issuer.active) is not None
    finally:
        await source.close()
