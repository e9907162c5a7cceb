from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp
from ticketing_common.access_log import AccessLog
from ticketing_common.app import create_service_app
from ticketing_common.redis import RedisClient
from ticketing_common.resources import provide, provided_by
from ticketing_common.security import JwksKeySource, TokenVerifier
from ticketing_common.tracing import TracingMiddleware

from ticketing_api_gateway.admission import AdmissionKeys
from ticketing_api_gateway.api import router
from ticketing_api_gateway.gateway import Gateway
from ticketing_api_gateway.history import StatusRecorder
from ticketing_api_gateway.openapi import PublicApi
from ticketing_api_gateway.proxy import Proxy
from ticketing_api_gateway.public_routes import AnonymousRoutes
from ticketing_api_gateway.ratelimit import RateLimiter
from ticketing_api_gateway.room_api import PollEdge, RoomApi
from ticketing_api_gateway.room_api import router as room_router
from ticketing_api_gateway.rooms import Admitter, RoomDirectory, RoomGuard
from ticketing_api_gateway.routing import RouteTable
from ticketing_api_gateway.settings import GatewaySettings, Timeouts
from ticketing_api_gateway.status import StatusPage
from ticketing_api_gateway.upstreams import Upstreams
from ticketing_api_gateway.waiting_room import WaitingRoom

LEASE_PRUNE_INTERVAL_S = 5.0
EXPOSED_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]

DESCRIPTION = """The front door. Every path under a configured prefix (`GATEWAY_ROUTES`) is
passed unchanged to the service that owns it (a trailing slash dropped); `/internal/...` is never
routed. This document lists every public route, merged from the services' own documents.

- **Auth at the edge**: a bearer token is verified against the auth service's JWKS; routes
  their service does not declare anonymous (in its own OpenAPI document) get 401 without a valid
  token, without reaching the service.
- **Rate limits** per route group, per user (valid token) or per client address: every answer
  carries `RateLimit-Limit` (bucket size), `RateLimit-Remaining` and `RateLimit-Reset` (seconds
  until the bucket is full); 429 adds `Retry-After`.
- **Errors made here** are `application/problem+json`: 401, 404, 405, 413, 429, 502 (service
  unreachable), 503 (circuit open, with `Retry-After`), 504 (service too slow).
- **Waiting rooms**: while an event's room is on, its holds and bookings need the
  `X-Admission-Token` the room gives an admitted person (403 `waiting-room-required` without);
  `/api/v1/waiting-room/...` is the room itself.
- **No internal address leaks**: a service's `Location` (or `Link`, `Content-Location`,
  `Refresh`) naming its own address is rewritten to the public path.
"""


def create_app(settings: GatewaySettings | None = None) -> ASGIApp:
    settings = settings or GatewaySettings()
    routes = RouteTable.build(
        settings.gateway_routes,
        rate_limits=settings.rate_limits,
        default_timeouts=Timeouts(
            connect_s=settings.upstream_connect_timeout_s, total_s=settings.upstream_timeout_s
        ),
        timeouts=settings.upstream_timeouts,
    )
    assert settings.jwks_url is not None  # GatewaySettings refuses to exist without it
    verifier = TokenVerifier(
        JwksKeySource(
            settings.jwks_url,
            refresh_interval_s=settings.jwks_refresh_interval_s,
            min_refetch_s=settings.jwks_min_refetch_s,
        ),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    upstreams = Upstreams(
        routes.upstreams,
        pool_size=settings.upstream_pool_size,
        pool_size_per_host=settings.upstream_pool_size_per_host,
        keepalive_s=settings.upstream_keepalive_s,
        failure_threshold=settings.breaker_failure_threshold,
        cooldown_s=settings.breaker_cooldown_s,
    )
    redis = RedisClient.from_settings(settings)
    limiter = RateLimiter(
        redis,
        lease_fraction=settings.rate_limit_lease_fraction,
        max_lease=settings.rate_limit_max_lease,
        lease_ttl_s=settings.rate_limit_lease_ttl_s,
        redis_timeout_s=settings.rate_limit_redis_timeout_s,
        retry_s=settings.rate_limit_retry_s,
    )

    async def prune_leases(app: FastAPI) -> None:
        while True:
            await asyncio.sleep(LEASE_PRUNE_INTERVAL_S)
            limiter.prune()

    status_page = StatusPage(
        upstreams,
        limiter,
        routes.upstreams,
        timeout_s=settings.status_timeout_s,
        cache_s=settings.status_cache_s,
    )
    recorder = StatusRecorder(
        redis,  # opened and closed by the limiter, whose connection it is
        status_page,
        interval_s=settings.status_sample_interval_s,
        retention_s=settings.status_history_retention_s,
        cache_s=settings.status_history_cache_s,
    )

    admission_keys = AdmissionKeys.from_config(settings.waiting_room_signing_key.get_secret_value())
    room = WaitingRoom(  # on the limiter's Redis connection, like the recorder
        redis, admission_keys, redis_timeout_s=settings.waiting_room_redis_timeout_s
    )
    anonymous = AnonymousRoutes(
        upstreams,
        routes.upstreams,
        refresh_s=settings.openapi_cache_s,
        timeout_s=settings.status_timeout_s,
    )
    background: list[Callable[[FastAPI], Awaitable[None]]] = [
        prune_leases,
        recorder.run,
        anonymous.run,
    ]
    guard: RoomGuard | None = None
    rooms = RoomDirectory(
        upstreams,
        settings.events_url or "",
        settings.service_token.get_secret_value(),
        refresh_s=settings.waiting_room_refresh_s,
    )
    if settings.events_url:
        guard = RoomGuard(rooms, room, admission_keys)
        admitter = Admitter(rooms, room, tick_s=settings.waiting_room_tick_s)
        background += [rooms.run, admitter.run]
    else:
        rooms.known = True  # no events service: no event has a room

    control = create_service_app(
        settings,
        title="API gateway",
        description=DESCRIPTION,
        routers=[router, room_router],
        resources=[verifier, upstreams, limiter],
        background=background,
    )
    room_limits = settings.rate_limits.get("waiting-room", settings.rate_limits["default"])
    room_api = RoomApi(rooms, room, admission_keys, limiter, room_limits.user)
    provide(control, status_page, recorder, room_api)
    public_api = PublicApi(
        upstreams,
        routes.upstreams,
        control.openapi,
        ttl_s=settings.openapi_cache_s,
        timeout_s=settings.status_timeout_s,
    )

    async def openapi_document(request: Request) -> Response:
        return Response(await public_api.document(), media_type="application/json")

    # The whole public API at /openapi.json (and so in /docs), not just the gateway's routes.
    openapi_url = control.openapi_url or "/openapi.json"
    control.router.routes[:] = [
        route for route in control.router.routes if getattr(route, "path", "") != openapi_url
    ]
    control.add_route(openapi_url, openapi_document, include_in_schema=False)

    access_log = provided_by(control, AccessLog)  # the control app's: one log, one writer
    proxy = Proxy(
        upstreams=upstreams,
        limiter=limiter,
        verifier=verifier,
        anonymous=anonymous,
        max_body_bytes=settings.max_body_bytes,
        trusted_proxy_hops=settings.trusted_proxy_hops,
        routes=routes.routes,
        access_log=access_log,
        rooms=guard,
        forward_xray_segment=control.state.tracing is not None,
    )
    room_poll = PollEdge(room_api, verifier, access_log)

    # The FastAPI app has its own CORS and tracing middleware (create_service_app); the raw paths
    # (the proxy, the room's poll) get the same (the same tracer: the control app's lifespan
    # starts and stops it), outside them so preflights never reach a service.
    def edge(app: ASGIApp) -> ASGIApp:
        if settings.cors_origins:
            app = CORSMiddleware(
                app,
                allow_origins=settings.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=EXPOSED_HEADERS,
            )
        if control.state.tracing is not None:
            app = TracingMiddleware(app, tracing=control.state.tracing)
        return app

    return Gateway(routes, edge(proxy), control, edge(room_poll))
