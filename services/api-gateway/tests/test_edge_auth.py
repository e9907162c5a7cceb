"""Edge auth over real HTTP: what a token-less, bad-token or good-token request gets, that
refused requests never reach the service, and that the routes open without a token are the ones
the service's own OpenAPI document declares anonymous."""

import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from support import echoed_headers, gateway_env, hits, running_gateway, start_upstream
from ticketing_api_gateway.public_routes import RETRY_S
from ticketing_devkit.processes import ServiceProcess, free_port
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_devkit.tokens import FakeIssuer

PROTECTED = "/api/v1/bookings"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def alg_none(issuer: FakeIssuer) -> str:
    now = int(time.time())
    claims = {
        "iss": "ticketing-auth",
        "aud": "ticketing",
        "sub": "admin",
        "role": "admin",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
    }
    return jwt.encode(claims, None, algorithm="none", headers={"kid": issuer.active})


def tampered(issuer: FakeIssuer) -> str:
    header, _, signature = issuer.token().split(".")
    forged = jwt.utils.base64url_encode(
        b'{"sub":"admin","role":"admin","exp":9999999999,"iat":1,"jti":"x",'
        b'"iss":"ticketing-auth","aud":"ticketing"}'
    ).decode()
    return f"{header}.{forged}.{signature}"


BAD_TOKENS = {
    "expired": lambda issuer: issuer.token(exp=int(time.time()) - 5),
    "tampered": tampered,
    "alg none": alg_none,
    "hs256 with a guessable secret": lambda issuer: jwt.encode(
        {"sub": "x", "role": "admin"},
        "secret-secret-secret-secret-32b!",
        algorithm="HS256",
        headers={"kid": issuer.active},
    ),
    "signed by another key under a known kid": lambda issuer: issuer.token(
        key=ed25519.Ed25519PrivateKey.generate()
    ),
    "unknown kid": lambda issuer: issuer.token(
        key=ed25519.Ed25519PrivateKey.generate(), kid="not-a-real-kid"
    ),
    "another audience": lambda issuer: issuer.token(aud="another-platform"),
    "another issuer": lambda issuer: issuer.token(iss="someone-else"),
    "garbage": lambda issuer: "not.a.jwt",
}


def test_a_protected_route_without_a_token_is_401_and_never_reaches_the_service(
    client: httpx.Client, upstream: ServiceProcess
) -> None:
    before = hits(upstream)
    for method, path in [
        ("GET", PROTECTED),
        ("POST", PROTECTED),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/events"),
        ("POST", "/api/v1/inventory/events/e-1/holds"),
        ("GET", "/api/v1/payments/p-1"),
        ("GET", "/api/v1/notifications"),
    ]:
        response = client.request(method, path)
        body = assert_problem(response, 401)
        assert body["detail"] == "This endpoint needs a bearer token"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["x-request-id"]
    assert hits(upstream) == before


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_token_on_a_protected_route_is_401_and_never_reaches_the_service(
    client: httpx.Client, upstream: ServiceProcess, issuer: FakeIssuer, case: str
) -> None:
    token = BAD_TOKENS[case](issuer)
    before = hits(upstream)
    assert_problem(client.get(PROTECTED, headers=bearer(token)), 401)
    assert hits(upstream) == before


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ,", "token abc"])
def test_an_authorization_header_without_a_bearer_token_is_401(
    client: httpx.Client, header: str
) -> None:
    assert_problem(client.get(PROTECTED, headers={"Authorization": header}), 401)


def test_the_expired_token_says_so(client: httpx.Client, issuer: FakeIssuer) -> None:
    response = client.get(PROTECTED, headers=bearer(BAD_TOKENS["expired"](issuer)))
    assert_problem(response, 401, detail="The token has expired")


def test_a_valid_token_passes_and_reaches_the_service_unchanged(
    client: httpx.Client, issuer: FakeIssuer
) -> None:
    token = issuer.token(role="organizer")
    response = client.post("/api/v1/events", json={"title": "x"}, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert echoed_headers(response)["authorization"] == f"Bearer {token}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("GET", "/api/v1/auth/jwks"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/events/e-1"),
        ("GET", "/api/v1/events/e-1/seatmap"),
        ("GET", "/api/v1/events/e-1/waiting-room"),
        ("GET", "/api/v1/venues/v-1"),
        ("GET", "/api/v1/search/events"),
        ("GET", "/api/v1/search/suggest"),
        ("GET", "/api/v1/inventory/events/e-1/availability"),
        ("POST", "/api/v1/payments/webhooks/stripe"),
        ("GET", "/api/v1/bookings/tickets/public-key"),
    ],
)
def test_public_routes_are_open(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, content=b"{}")
    assert response.status_code == 200, response.text
    assert response.json()["path"] == path
    assert "authorization" not in echoed_headers(response)


def test_the_edge_learns_a_services_anonymous_routes_once_it_answers(
    jwks_url: str, redis_url: str
) -> None:
    """make dev starts the gateway beside the services: a token-less request to a service whose
    document the gateway never had is a 503 (it cannot tell whether the route is open), and the
    next one after the service is up is answered as the service declares."""
    port = free_port()
    env = gateway_env({"/api/v1/events": f"http://127.0.0.1:{port}"}, jwks_url, redis_url)
    with running_gateway(env, "gateway-learning") as gateway:
        response = httpx.get(f"{gateway.url}/api/v1/events")
        assert_problem(response, 503)
        assert response.headers["retry-after"] == "1"
        events = start_upstream("events", port=port)
        try:
            time.sleep(RETRY_S)
            response = httpx.get(f"{gateway.url}/api/v1/events")
            assert response.status_code == 200, response.text
            assert response.json()["upstream"] == "events"
            assert_problem(httpx.post(f"{gateway.url}/api/v1/events"), 401)
            # The document says which routes are open, nothing else: undeclared needs a token.
            assert_problem(httpx.get(f"{gateway.url}/api/v1/events/e-1/undeclared"), 401)
        finally:
            events.stop()


def test_a_bad_token_on_a_public_route_is_forwarded_for_the_service_to_judge(
    client: httpx.Client, issuer: FakeIssuer
) -> None:
    token = BAD_TOKENS["expired"](issuer)
    response = client.get("/api/v1/events/e-1", headers=bearer(token))
    assert response.status_code == 200
    assert echoed_headers(response)["authorization"] == f"Bearer {token}"


def test_a_rotated_key_is_fetched_once_on_its_first_unknown_kid(
    client: httpx.Client, issuer: FakeIssuer
) -> None:
    time.sleep(0.6)  # past the gateway's minimum JWKS refetch interval (0.5 s in these tests)
    before = issuer.fetches
    new_kid = issuer.rotate()
    token = issuer.token(kid=new_kid)
    assert client.get(PROTECTED, headers=bearer(token)).status_code == 200
    assert issuer.fetches == before + 1
    for _ in range(3):  # cached from now on: no per-request call to auth
        assert client.get(PROTECTED, headers=bearer(issuer.token(kid=new_kid))).status_code == 200
    assert issuer.fetches == before + 1


def test_random_kids_cannot_make_the_gateway_hammer_auth(
    client: httpx.Client, issuer: FakeIssuer
) -> None:
    time.sleep(0.6)
    before = issuer.fetches
    for _ in range(10):
        stranger = ed25519.Ed25519PrivateKey.generate()
        token = issuer.token(key=stranger, kid=uuid.uuid4().hex)
        assert_problem(client.get(PROTECTED, headers=bearer(token)), 401)
    assert issuer.fetches <= before + 1
