"""The service defaults: one call builds a service's app with settings, JSON logging, problem+json
errors, request ids, body limits, tracing, CORS, auth, `/health`, `/ready` and its resources."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response

from ticketing_common.access_log import AccessLog
from ticketing_common.middleware import RequestContextMiddleware
from ticketing_common.problems import Problem, ProblemType, install_problem_handlers
from ticketing_common.resources import Degraded, Resource, provide
from ticketing_common.security import JwksKeySource, TokenVerifier, document_anonymous_access
from ticketing_common.settings import ServiceSettings
from ticketing_common.tracing import TracingMiddleware
from ticketing_common.tracing import configure as configure_tracing

log = logging.getLogger(__name__)

Hook = Callable[[FastAPI], Awaitable[None]]
READY_TIMEOUT_S = 2.0
# A request in flight holds a few hundred objects the cycle collector tracks; with the default
# young-generation threshold (700) a busy service ran a collection every few requests.
YOUNG_GC_THRESHOLD = 10_000


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str = "",
    routers: Sequence[APIRouter] = (),
    resources: Sequence[Resource] = (),
    on_startup: Sequence[Hook] = (),
    background: Sequence[Hook] = (),
    provides: Sequence[object] = (),
) -> FastAPI:
    """Build a service. `resources` open in order in the lifespan and are checked by `/ready`;
    `on_startup` hooks run once they are open; `background` loops run until shutdown; routes get
    the settings and what is in `provides` by type (`Depends(provided(X))`)."""
    # (Logging is configured already: by the settings, as they were read.)
    tracing = configure_tracing(settings)
    resources = list(resources)
    if settings.jwks_url and not any(isinstance(r, TokenVerifier) for r in resources):
        keys = JwksKeySource(
            settings.jwks_url,
            refresh_interval_s=settings.jwks_refresh_interval_s,
            min_refetch_s=settings.jwks_min_refetch_s,
        )
        resources.append(
            TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started: list[Resource] = []
        tasks: list[asyncio.Task[None]] = []
        if tracing is not None:
            await tracing.start()  # first in, last out: the resources' own startup is traced
        try:
            for item in resources:
                await item.start()
                started.append(item)
                setattr(app.state, item.name, item)
            for hook in on_startup:
                await hook(app)
            _settle_heap()
            tasks = [asyncio.create_task(_supervise(loop, app)) for loop in background]
            log.info("service started", extra={"resources": [r.name for r in resources]})
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for item in reversed(started):
                try:
                    await item.stop()
                except Exception:
                    log.exception("resource failed to stop", extra={"resource": item.name})
            if tracing is not None:
                await tracing.stop()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=[{"name": "internal", "description": "Service-to-service commands"}],
    )
    app.state.settings = settings
    provide(app, settings, *provides)
    app.state.tracing = tracing  # None when off; the bus consumer and the gateway's proxy use it
    install_problem_handlers(app)
    for item in resources:
        for error, handler in item.exception_handlers().items():
            app.add_exception_handler(error, handler)
    for router in routers:
        app.include_router(router)
    document_anonymous_access(app)
    _add_health_routes(app, resources)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    if tracing is not None:
        app.add_middleware(TracingMiddleware, tracing=tracing)
    access_log = AccessLog(settings.service_name)
    provide(app, access_log)  # the gateway's raw paths write the same log
    app.add_middleware(
        RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, access_log=access_log
    )
    return app


def _settle_heap() -> None:
    """Everything made at import and startup lives as long as the process: freeze it, so full
    collections walk only what requests allocate (the gateway measured ~90 ms pauses walking
    ~80k startup objects), and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, 10, 10)


async def _supervise(loop: Hook, app: FastAPI) -> None:
    """Keep a background loop alive: log a crash and restart it after a pause."""
    while True:
        try:
            await loop(app)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task crashed; restarting", extra={"task": loop.__name__})
            await asyncio.sleep(1.0)


def _add_health_routes(app: FastAPI, resources: Sequence[Resource]) -> None:
    service = app.state.settings.service_name

    @app.get("/health", tags=["health"], summary="Alive (no dependencies checked)")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get(
        "/ready",
        tags=["health"],
        summary="Ready: every dependency reachable",
        description="200 `ready`; 200 `degraded` when the service works only in part (each "
        "degraded check says why); 503 when a dependency is not reachable.",
    )
    async def ready() -> Response:
        checks: dict[str, Any] = {}

        async def probe(item: Resource) -> None:
            started = time.perf_counter()
            try:
                await asyncio.wait_for(item.check(), READY_TIMEOUT_S)
                checks[item.name] = {"status": "ok"}
            except Degraded as exc:
                checks[item.name] = {"status": "degraded", "detail": str(exc)}
            except Exception as exc:
                checks[item.name] = {"status": "failing", "error": str(exc) or type(exc).__name__}
            checks[item.name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)

        await asyncio.gather(*(probe(item) for item in resources))
        if all(check["status"] != "failing" for check in checks.values()):
            degraded = any(check["status"] == "degraded" for check in checks.values())
            status = "degraded" if degraded else "ready"
            return JSONResponse({"status": status, "service": service, "checks": checks})
        problem = Problem(
            503,
            "A dependency is not reachable",
            slug=ProblemType.NOT_READY,
            service=service,
            checks=checks,
        )
        return problem.to_response("/ready")
