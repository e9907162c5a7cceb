import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import SecretStr
from ticketing_common.app import create_service_app
from ticketing_common.internal import internal_router
from ticketing_common.resources import Degraded, Resource
from ticketing_common.settings import RedisSettings, ServiceSettings, production_secret
from ticketing_devkit.processes import serve_app
from ticketing_devkit.pytest_plugin import assert_problem

events: list[str] = []


class Switch(Resource):
    """A dependency whose health the test controls."""

    name = "switch"

    def __init__(self) -> None:
        self.healthy = True
        self.partial = False

    async def start(self) -> None:
        events.append("switch started")

    async def stop(self) -> None:
        events.append("switch stopped")

    async def check(self) -> None:
        if not self.healthy:
            raise ConnectionError("switch is off")
        if self.partial:
            raise Degraded("half the lights are on")


class Second(Resource):
    name = "second"

    async def start(self) -> None:
        events.append("second started")

    async def stop(self) -> None:
        events.append("second stopped")


internal = internal_router()


@internal.post("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}


ticks: list[int] = []


async def flaky_loop(app: FastAPI) -> None:
    ticks.append(1)
    if len(ticks) == 1:
        raise RuntimeError("first run crashes; the supervisor restarts it")
    await asyncio.Event().wait()  # run until cancelled at shutdown


@pytest.fixture(scope="module")
def switch() -> Switch:
    return Switch()


@pytest.fixture(scope="module")
def base_url(switch: Switch) -> Iterator[str]:
    settings = ServiceSettings(service_name="svc", service_token="s3cret-token")
    app = create_service_app(
        settings,
        title="svc",
        routers=[internal, APIRouter()],
        resources=[switch, Second()],
        background=[flaky_loop],
    )
    with serve_app(app) as url:
        yield url
    assert events[-2:] == ["second stopped", "switch stopped"]


def test_health_needs_no_dependencies(base_url: str, switch: Switch) -> None:
    switch.healthy = False
    try:
        assert httpx.get(f"{base_url}/health").json() == {"status": "ok", "service": "svc"}
    finally:
        switch.healthy = True


def test_ready_reports_each_dependency(base_url: str, switch: Switch) -> None:
    body = httpx.get(f"{base_url}/ready").json()
    assert body["status"] == "ready"
    assert body["checks"]["switch"]["status"] == "ok"
    switch.healthy = False
    try:
        problem = assert_problem(httpx.get(f"{base_url}/ready"), 503)
        assert problem["checks"]["switch"] == {
            "status": "failing",
            "error": "switch is off",
            "latency_ms": problem["checks"]["switch"]["latency_ms"],
        }
        assert problem["checks"]["second"]["status"] == "ok"
    finally:
        switch.healthy = True


def test_ready_says_degraded_while_a_dependency_works_in_part(
    base_url: str, switch: Switch
) -> None:
    switch.partial = True
    try:
        response = httpx.get(f"{base_url}/ready")
        assert response.status_code == 200  # still serving: load balancers keep it
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["switch"]["status"] == "degraded"
        assert body["checks"]["switch"]["detail"] == "half the lights are on"
        switch.healthy = False  # failing outranks degraded
        assert_problem(httpx.get(f"{base_url}/ready"), 503)
    finally:
        switch.partial = False
        switch.healthy = True
    assert httpx.get(f"{base_url}/ready").json()["status"] == "ready"


def test_resources_start_in_order(base_url: str) -> None:
    assert events[:2] == ["switch started", "second started"]


def test_background_loop_is_restarted_after_a_crash(base_url: str) -> None:
    for _ in range(50):
        if len(ticks) >= 2:
            break
        time.sleep(0.1)
    assert len(ticks) == 2


def test_openapi_is_served(base_url: str) -> None:
    schema = httpx.get(f"{base_url}/openapi.json").json()
    assert "/health" in schema["paths"]


def test_internal_routes_need_the_service_credential(base_url: str) -> None:
    assert_problem(httpx.post(f"{base_url}/internal/ping"), 401)
    assert_problem(
        httpx.post(f"{base_url}/internal/ping", headers={"X-Service-Token": "wrong"}), 401
    )
    ok = httpx.post(f"{base_url}/internal/ping", headers={"X-Service-Token": "s3cret-token"})
    assert ok.json() == {"pong": True}


def test_production_refuses_the_dev_service_token() -> None:
    with pytest.raises(ValueError, match="SERVICE_TOKEN"):
        ServiceSettings(environment="prod")
    assert ServiceSettings(environment="prod", service_token="real").environment == "prod"


def test_production_refuses_every_secret_left_missing_or_at_its_dev_value() -> None:
    class Keys(ServiceSettings, RedisSettings):
        signing_key: SecretStr = production_secret()
        webhook_secret: SecretStr = production_secret("whsec_dev")
        optional_password: SecretStr | None = None  # not a production secret: may stay unset

    with pytest.raises(ValueError, match="must be set in production") as refused:
        Keys(environment="prod", service_token="real", webhook_secret="whsec_dev")
    # One message naming all of them, so one failed start tells the operator everything.
    assert "REDIS_URL, SIGNING_KEY, WEBHOOK_SECRET must" in str(refused.value)
    with pytest.raises(ValueError, match="SIGNING_KEY must be set"):
        Keys(
            environment="prod",
            service_token="real",
            signing_key="  ",  # blank is missing
            webhook_secret="whsec_real",
            redis_url="redis://cache:6379/0",
        )
    ready = Keys(
        environment="prod",
        service_token="real",
        signing_key="k",
        webhook_secret="whsec_real",
        redis_url="redis://cache:6379/0",
    )
    assert ready.signing_key.get_secret_value() == "k"
    assert Keys().webhook_secret.get_secret_value() == "whsec_dev"  # dev: the dev values are fine


def test_startup_objects_are_frozen_out_of_garbage_collection(base_url: str) -> None:
    # serve_app runs the app in this process: after startup the heap is frozen and young
    # collections are rarer, so full collections stop walking long-lived startup objects.
    import gc

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == 10_000


def test_logging_is_configured_as_the_settings_are_read() -> None:
    import logging

    from ticketing_common.logging import JsonFormatter

    ServiceSettings(service_name="reader", log_level="WARNING")
    root = logging.getLogger()
    (handler,) = root.handlers
    assert isinstance(handler.formatter, JsonFormatter)
    assert handler.formatter.service == "reader"
    assert root.level == logging.WARNING


def test_the_openapi_document_says_which_operations_admit_anonymous_callers() -> None:
    from ticketing_common.security import CurrentUser, OptionalUser, Principal

    router = APIRouter(prefix="/api/v1/things")

    @router.get("/public")
    async def public(user: OptionalUser) -> dict[str, bool]:
        return {"signed_in": user is not None}

    @router.get("/mine")
    async def mine(user: CurrentUser) -> dict[str, str]:
        return {"id": user.user_id}

    @router.get("/open")
    async def open_() -> dict[str, bool]:
        return {"ok": True}

    @router.post("/both")
    async def both(optional: OptionalUser, user: CurrentUser) -> Principal:
        return user

    app = create_service_app(ServiceSettings(), title="t", routers=[router])
    paths = app.openapi()["paths"]
    assert paths["/api/v1/things/public"]["get"]["security"] == [{}, {"HTTPBearer": []}]
    assert paths["/api/v1/things/mine"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in paths["/api/v1/things/open"]["get"]
    assert paths["/api/v1/things/both"]["post"]["security"] == [{"HTTPBearer": []}]
    assert app.openapi() is app.openapi()  # built once: marking it again changes nothing
    assert app.openapi()["paths"]["/api/v1/things/public"]["get"]["security"][0] == {}


async def test_routes_get_what_the_app_provides_by_type() -> None:
    from typing import Annotated

    from fastapi import Depends
    from ticketing_common.resources import provide, provided

    class Greeter:
        def greet(self) -> str:
            return "hello"

    class LoudGreeter(Greeter):
        def greet(self) -> str:
            return "HELLO"

    class Missing:
        pass

    router = APIRouter()

    @router.get("/greet")
    async def greet(
        greeter: Annotated[Greeter, Depends(provided(Greeter))],
        settings: Annotated[ServiceSettings, Depends(provided(ServiceSettings))],
    ) -> dict[str, str]:
        return {"said": greeter.greet(), "by": settings.service_name}

    @router.get("/missing")
    async def missing(thing: Annotated[Missing, Depends(provided(Missing))]) -> None:
        return None

    app = create_service_app(
        ServiceSettings(service_name="greeter"), title="t", routers=[router], provides=[Greeter()]
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/greet")).json() == {"said": "hello", "by": "greeter"}
        provide(app, LoudGreeter())  # by its own type: not what asks for a Greeter gets
        assert (await client.get("/greet")).json()["said"] == "hello"
        provide(app, LoudGreeter(), as_type=Greeter)  # in the place of a Greeter
        assert (await client.get("/greet")).json()["said"] == "HELLO"
        assert (await client.get("/missing")).status_code == 500  # a wiring mistake, said loudly
