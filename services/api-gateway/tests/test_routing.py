"""The route table and the public-route table as data, without HTTP."""

import pytest
import upstream_app
from pydantic import ValidationError
from support import PREFIXES
from ticketing_api_gateway.public_routes import PublicRoutes, anonymous_operations
from ticketing_api_gateway.routing import RouteConfigError, RouteTable
from ticketing_api_gateway.settings import (
    DEFAULT_RATE_LIMITS,
    GatewaySettings,
    GroupLimits,
    Limit,
    Timeouts,
)

DEFAULT_TIMEOUTS = Timeouts(connect_s=1, total_s=10)


def table(routes: dict[str, str], **timeouts: Timeouts) -> RouteTable:
    return RouteTable.build(
        routes,
        rate_limits=DEFAULT_RATE_LIMITS,
        default_timeouts=DEFAULT_TIMEOUTS,
        timeouts={prefix.replace("_", "/"): value for prefix, value in timeouts.items()},
    )


STACK = {
    "/api/v1/auth": "http://auth:8001",
    "/api/v1/events": "http://events:8002/",
    "/api/v1/venues": "http://events:8002",
    "/api/v1/inventory": "http://inventory:8003",
    "/api/v1/inventory/events": "http://inventory-reads:8013",
    "/api/v1/bookings": "http://booking:8004",
}


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/auth/login", "http://auth:8001"),
        ("/api/v1/auth", "http://auth:8001"),
        ("/api/v1/events", "http://events:8002"),  # trailing slash of the config dropped
        ("/api/v1/events/e-1/seatmap", "http://events:8002"),
        ("/api/v1/venues/v-1", "http://events:8002"),
        ("/api/v1/inventory/holds/h-1", "http://inventory:8003"),
        ("/api/v1/inventory/events/e-1/availability", "http://inventory-reads:8013"),  # longest
        ("/api/v1/inventory/events", "http://inventory-reads:8013"),
        ("/api/v1/inventory/eventsx", "http://inventory:8003"),  # a segment, not a string prefix
        ("/api/v1/bookings/", "http://booking:8004"),
    ],
)
def test_the_longest_prefix_wins(path: str, upstream: str) -> None:
    route = table(STACK).match(path)
    assert route is not None
    assert route.upstream == upstream


@pytest.mark.parametrize(
    "path",
    [
        "/internal/holds/h-1",
        "/internal",
        "/api/v1/authx",
        "/api/v1",
        "/api/v2/events",
        "/",
        "/health",
        "/api/v1/events/../../../internal/holds/h-1",
        "/api/v1/events/./e-1",
        "/api/v1/events/..",
    ],
)
def test_paths_outside_the_routes_are_not_routed(path: str) -> None:
    assert table(STACK).match(path) is None


@pytest.mark.parametrize(
    "prefix",
    ["/internal", "/internal/events", "api/v1/x", "/", "/api/v1/x/", "/api/../internal", "/a?b"],
)
def test_a_route_table_that_would_expose_internal_or_odd_paths_is_refused(prefix: str) -> None:
    with pytest.raises(RouteConfigError):
        table({prefix: "http://svc:1"})


def test_upstreams_must_be_http_urls() -> None:
    with pytest.raises(RouteConfigError):
        table({"/api/v1/x": "ftp://svc"})


def test_timeouts_and_groups_are_resolved_per_route() -> None:
    routes = table(STACK, _api_v1_bookings=Timeouts(connect_s=0.2, total_s=3))
    bookings = routes.match("/api/v1/bookings")
    events = routes.match("/api/v1/events")
    auth = routes.match("/api/v1/auth/login")
    assert bookings is not None
    assert events is not None
    assert auth is not None
    assert bookings.timeouts == Timeouts(connect_s=0.2, total_s=3)
    assert events.timeouts == DEFAULT_TIMEOUTS
    assert (auth.group, events.group, bookings.group) == ("auth", "catalog", "default")
    assert auth.anonymous_limit == DEFAULT_RATE_LIMITS["auth"].anonymous


def test_timeouts_for_an_unrouted_prefix_are_refused() -> None:
    with pytest.raises(RouteConfigError):
        table(STACK, _api_v1_payments=Timeouts(connect_s=1, total_s=1))


def test_upstreams_lists_each_service_once_with_its_prefixes() -> None:
    upstreams = table(STACK).upstreams
    assert upstreams["http://events:8002"] == ["/api/v1/events", "/api/v1/venues"]
    assert len(upstreams) == 5


UPSTREAM = "http://platform:8000"


def declared() -> PublicRoutes:
    """What the tests' upstream, playing every service, declares anonymous."""
    document = upstream_app.openapi_document()
    return PublicRoutes({UPSTREAM: anonymous_operations(document, list(PREFIXES))})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("GET", "/api/v1/auth/jwks"),
        ("GET", "/api/v1/events"),
        ("HEAD", "/api/v1/events"),
        ("GET", "/api/v1/events/e-1"),
        ("GET", "/api/v1/events/e-1/seatmap"),
        ("GET", "/api/v1/events/e-1/waiting-room"),
        ("GET", "/api/v1/venues/v-1"),
        ("GET", "/api/v1/search/events"),
        ("GET", "/api/v1/search/suggest"),
        ("GET", "/api/v1/inventory/events/e-1/availability"),
        ("POST", "/api/v1/payments/webhooks/stripe"),
    ],
)
def test_public_routes(method: str, path: str) -> None:
    assert declared().is_public(UPSTREAM, method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/auth/me"),
        ("PATCH", "/api/v1/auth/users/u-1/role"),
        ("POST", "/api/v1/events"),
        ("PATCH", "/api/v1/events/e-1"),
        ("POST", "/api/v1/events/e-1/publish"),
        ("PUT", "/api/v1/events/e-1/waiting-room"),
        ("POST", "/api/v1/venues"),
        ("GET", "/api/v1/events/e-1/seatmap/extra"),
        ("GET", "/api/v1/events/e-1/x/seatmap"),
        ("POST", "/api/v1/inventory/events/e-1/holds"),
        ("GET", "/api/v1/inventory/holds/h-1"),
        ("GET", "/api/v1/bookings"),
        ("GET", "/api/v1/payments/p-1"),
        ("GET", "/api/v1/payments/webhooks/stripe"),
        ("POST", "/api/v1/payments/p-1/simulate"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/events/e-1/../../bookings"),
    ],
)
def test_everything_else_needs_a_token(method: str, path: str) -> None:
    assert not declared().is_public(UPSTREAM, method, path)


def test_an_upstream_opens_only_the_paths_routed_to_it() -> None:
    document = upstream_app.openapi_document()
    public = PublicRoutes(
        {
            "http://events:8002": anonymous_operations(document, ["/api/v1/events"]),
            "http://payment:8005": [],  # its document declares nothing anonymous
        }
    )
    assert public.is_public("http://events:8002", "GET", "/api/v1/events/e-1")
    assert not public.is_public("http://events:8002", "GET", "/api/v1/search/events")
    assert not public.is_public("http://payment:8005", "POST", "/api/v1/payments/webhooks/stripe")
    assert not public.is_public("http://unknown:8000", "GET", "/api/v1/events/e-1")


def test_an_operation_without_its_own_security_has_the_documents() -> None:
    get = {"responses": {}}
    document = {
        "security": [{"HTTPBearer": []}],
        "paths": {
            "/api/v1/x": {"get": get, "post": {"security": [], "responses": {}}},
            "/api/v1/x/{id}": {"get": {"security": [{}, {"HTTPBearer": []}], "responses": {}}},
            "/internal/x": {"get": {"security": [], "responses": {}}},
        },
    }
    found = anonymous_operations(document, ["/api/v1/x", "/internal"])
    assert sorted(found) == [("GET", "/api/v1/x/{id}"), ("POST", "/api/v1/x")]


def test_the_gateway_refuses_to_start_without_jwks_or_with_overlapping_groups() -> None:
    with pytest.raises(ValidationError, match="JWKS_URL"):
        GatewaySettings(jwks_url=None)
    limit = Limit(rate=1, burst=1)
    with pytest.raises(ValidationError, match="two rate-limit groups"):
        GatewaySettings(
            jwks_url="http://auth/jwks",
            rate_limits={
                "default": GroupLimits(anonymous=limit, user=limit),
                "a": GroupLimits(prefixes=("/api/v1/x",), anonymous=limit, user=limit),
                "b": GroupLimits(prefixes=("/api/v1/x",), anonymous=limit, user=limit),
            },
        )
    with pytest.raises(ValidationError, match="default"):
        GatewaySettings(
            jwks_url="http://auth/jwks",
            rate_limits={"a": GroupLimits(anonymous=limit, user=limit)},
        )
