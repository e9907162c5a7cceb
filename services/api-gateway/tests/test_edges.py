"""What the edge tells clients: no internal address in any header, a trailing slash that just
works, 404/405 problems that say what happened, and the whole public API in one document."""

from collections.abc import Iterator

import httpx
import pytest
from support import gateway_env, hits, running_gateway, start_upstream
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.pytest_plugin import assert_problem


def test_a_services_redirect_never_names_its_address(
    client: httpx.Client, upstream: ServiceProcess, user: dict[str, str]
) -> None:
    response = client.get("/api/v1/bookings/redirect", headers=user)
    assert response.status_code == 307
    assert response.headers["location"] == "/api/v1/bookings"
    assert response.headers["link"] == '</api/v1/bookings?page=2>; rel="next"'
    port = upstream.url.rsplit(":", 1)[1]
    for name, value in response.headers.items():
        assert port not in value, (name, value)
        assert "127.0.0.1" not in value, (name, value)


def test_a_trailing_slash_just_works(client: httpx.Client, user: dict[str, str]) -> None:
    answered = client.get("/api/v1/bookings/", headers=user)
    assert answered.status_code == 200  # served, not redirected
    assert answered.json()["path"] == "/api/v1/bookings"
    public = client.get("/api/v1/events/")  # still a public route without its slash
    assert public.status_code == 200
    assert public.json()["raw_path"] == "/api/v1/events"
    nested = client.get("/api/v1/events/e-1//?x=1")
    assert (nested.json()["path"], nested.json()["query"]) == ("/api/v1/events/e-1", "x=1")
    assert client.get("/status/").status_code == 200  # the gateway's own routes too


def test_the_gateways_own_404_and_405_say_what_happened(
    client: httpx.Client, upstream: ServiceProcess
) -> None:
    before = hits(upstream)
    body = assert_problem(client.get("/api/v2/nothing"), 404)
    assert body["detail"] == "Nothing is served at /api/v2/nothing"
    assert body["type"].endswith("/not-found")
    assert body["instance"] == "/api/v2/nothing"
    refused = client.post("/status")
    body = assert_problem(refused, 405)
    assert body["detail"] == "POST is not allowed on /status; allowed: GET"
    assert refused.headers["allow"] == "GET"
    assert hits(upstream) == before


@pytest.fixture(scope="module")
def documented(jwks_url: str, redis_url: str) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """A gateway in front of two services that each publish a document, and one that is down."""
    events = start_upstream("events", UPSTREAM_PREFIX="/api/v1/events")
    venues = start_upstream("venues", UPSTREAM_PREFIX="/api/v1/venues")
    routes = {
        "/api/v1/events": events.url,
        "/api/v1/venues": venues.url,
        "/api/v1/search": "http://127.0.0.1:9",  # nothing listens: its document is missing
    }
    env = gateway_env(routes, jwks_url, redis_url, openapi_cache_s="60")
    try:
        with running_gateway(env, "gateway-documented") as gateway:
            yield gateway, events
    finally:
        events.stop()
        venues.stop()


def test_openapi_is_the_whole_public_api_merged_from_the_services(
    documented: tuple[ServiceProcess, ServiceProcess],
) -> None:
    gateway, _ = documented
    document = httpx.get(f"{gateway.url}/openapi.json").json()
    paths = document["paths"]
    assert "/api/v1/events/{thing_id}" in paths
    assert "/api/v1/venues/{thing_id}" in paths
    assert "/status" in paths  # the gateway's own
    assert not [p for p in paths if p.startswith("/internal")]
    assert "health_events" not in str(paths)  # a service's own /health is not routed
    schemas = document["components"]["schemas"]
    # One HTTPValidationError (the same everywhere); two different Things kept apart.
    first = paths["/api/v1/events/{thing_id}"]["get"]["responses"]["200"]
    second = paths["/api/v1/venues/{thing_id}"]["get"]["responses"]["200"]
    refs = {
        first["content"]["application/json"]["schema"]["$ref"],
        second["content"]["application/json"]["schema"]["$ref"],
    }
    assert len(refs) == 2
    for ref in refs:
        assert ref.removeprefix("#/components/schemas/") in schemas
    assert "HTTPValidationError" in schemas
    assert "search" in document["info"]["description"]  # said to be missing, not silently
    docs = httpx.get(f"{gateway.url}/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
