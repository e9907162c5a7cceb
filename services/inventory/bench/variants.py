"""The hold route served the other ways that were measured (holds.py --variants), so the choice
(fastpath.FastPath in front of FastAPI's router) can be re-checked with numbers:

  router        the service itself without FastPath: the same endpoint, through FastAPI's
                exception middleware, router and request handling
  starlette     the same endpoint code as a plain Starlette route (no OpenAPI entry), still
                behind FastAPI's middleware and router
  dependencies  FastAPI's own way: pydantic body parameter, CurrentUser and idempotency as
                dependencies, response_model serialisation
The last two apps have the service's resources and internal routes plus that one hold route.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from ticketing_common.app import create_service_app
from ticketing_common.fastpath import FastPath, parse_body
from ticketing_common.idempotency import Idempotency, idempotency
from ticketing_common.problems import Problem, ProblemType
from ticketing_common.redis import RedisClient
from ticketing_common.security import CurrentUser, authenticated
from ticketing_inventory.api import internal
from ticketing_inventory.deps import EventId, InventoryService
from ticketing_inventory.ids import EVENT_ID_PATTERN
from ticketing_inventory.main import create_app
from ticketing_inventory.schemas import Hold, HoldIn
from ticketing_inventory.scripts import CallBatcher, Scripts
from ticketing_inventory.settings import InventorySettings
from ticketing_inventory.store import HoldView, Inventory, Limits

_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_idempotency = idempotency(201)


async def _hold(inventory: Inventory, event_id: str, user_id: str, body: HoldIn) -> HoldView:
    if body.seat_ids is not None:
        return await inventory.hold_seats(event_id, user_id, body.seat_ids)
    assert body.section_id is not None
    assert body.quantity is not None
    return await inventory.hold_standing(event_id, user_id, body.section_id, body.quantity)


def _app(router: APIRouter) -> FastAPI:
    settings = InventorySettings()
    redis = RedisClient(settings.redis_url, max_connections=settings.redis_max_connections)
    limits = Limits(
        settings.hold_ttl_s * 1000,
        settings.max_seats_per_hold,
        settings.max_active_holds_per_user,
        settings.hold_record_retention_s * 1000,
    )

    async def prepare(app: FastAPI) -> None:
        scripts = Scripts(redis.connection)
        await scripts.load()
        app.state.inventory = Inventory(
            redis.connection, scripts, CallBatcher(redis.connection), limits
        )

    return create_service_app(
        settings,
        title="variant",
        routers=[router, internal],
        resources=[redis],
        on_startup=[prepare],
    )


def create_app_dependencies() -> FastAPI:
    router = APIRouter(prefix="/api/v1/inventory")

    @router.post("/events/{event_id}/holds", status_code=201, response_model=Hold)
    async def create_hold(
        event_id: EventId,
        body: HoldIn,
        user: CurrentUser,
        inventory: InventoryService,
        idem: Annotated[Idempotency, Depends(_idempotency)],
    ) -> Any:
        async def work() -> Hold:
            view = await _hold(inventory, event_id, user.user_id, body)
            return Hold.model_validate(view.public())

        return await idem.run(work)

    return _app(router)


def create_app_starlette() -> FastAPI:
    router = APIRouter()  # a plain route gets no prefix from its router

    async def create_hold(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        if not _EVENT_ID.match(event_id):
            raise Problem(422, "Not an event id", slug=ProblemType.VALIDATION_ERROR)
        user = await authenticated(request)
        body = parse_body(HoldIn, await request.body())
        inventory: Inventory = request.app.state.inventory
        idem = await _idempotency(request, user, request.headers.get("idempotency-key"))

        async def work() -> dict[str, Any]:
            return (await _hold(inventory, event_id, user.user_id, body)).public()

        result = await idem.run(work)
        if isinstance(result, Response):
            return result
        return Response(orjson.dumps(result), status_code=201, media_type="application/json")

    router.add_route("/api/v1/inventory/events/{event_id}/holds", create_hold, methods=["POST"])
    return _app(router)


def create_app_router() -> FastAPI:
    """The service as it is, but with the hold route served by FastAPI's router (no FastPath)."""
    app = create_app()
    fast_path: Any = FastPath  # Middleware.cls is typed as a factory, not a class
    app.user_middleware = [m for m in app.user_middleware if m.cls is not fast_path]
    return app
