"""FastPath (ticketing_common.fastpath) over real HTTP: the routes it is given are served ahead of
the router, a route declared before one of them still wins, and the app's exception handlers
answer for the fast routes as they do for the others."""

from collections.abc import Iterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from ticketing_common.app import create_service_app
from ticketing_common.fastpath import parse_query, query_parameters, serve_ahead_of_router
from ticketing_common.internal import require_service
from ticketing_common.problems import Problem
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import serve_app


class Unavailable(Exception):
    pass


class Boom(Exception):
    pass


router = APIRouter(prefix="/things")


@router.get("/special")
async def special() -> dict[str, str]:
    return {"served_by": "router"}


@router.get("/{thing_id}")
async def thing(request: Request) -> Response:
    thing_id = request.path_params["thing_id"]
    if thing_id == "missing":
        raise Problem(404, "No such thing")
    if thing_id == "unavailable":
        raise Unavailable()
    if thing_id == "boom":
        raise Boom()
    route = request.scope["route"].path
    return JSONResponse({"served_by": "fast path", "thing_id": thing_id, "route": route})


@router.post("/{thing_id}")
async def change(thing_id: str) -> dict[str, str]:
    return {"served_by": "router", "changed": thing_id}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = FastAPI()
    app.include_router(router)

    async def unavailable(request: Request, exc: Exception) -> Response:
        return JSONResponse({"title": "try later"}, status_code=503)

    app.add_exception_handler(Unavailable, unavailable)
    serve_ahead_of_router(app, router.routes, thing)
    with serve_app(app) as base:
        yield base


def test_the_fast_route_is_served_with_its_path_parameters(url: str) -> None:
    answer = httpx.get(f"{url}/things/abc")
    assert answer.status_code == 200
    assert answer.json() == {
        "served_by": "fast path",
        "thing_id": "abc",
        "route": "/things/{thing_id}",
    }


def test_a_route_declared_before_it_still_serves_its_path(url: str) -> None:
    answer = httpx.get(f"{url}/things/special")
    assert answer.json() == {"served_by": "router"}


def test_other_methods_on_the_same_path_go_to_the_router(url: str) -> None:
    answer = httpx.post(f"{url}/things/abc")
    assert answer.json() == {"served_by": "router", "changed": "abc"}


def test_problems_and_the_apps_handlers_answer_for_the_fast_route(url: str) -> None:
    missing = httpx.get(f"{url}/things/missing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "No such thing"
    unavailable = httpx.get(f"{url}/things/unavailable")
    assert unavailable.status_code == 503
    assert unavailable.json() == {"title": "try later"}


def test_an_error_without_a_handler_is_a_500(url: str) -> None:
    assert httpx.get(f"{url}/things/boom").status_code == 500


def test_every_endpoint_needs_its_route() -> None:
    async def stray(request: Request) -> Response:
        return Response()

    with pytest.raises(ValueError, match="needs its route"):
        serve_ahead_of_router(FastAPI(), router.routes, thing, stray)


class Page(BaseModel):
    q: str | None = Field(default=None, max_length=5, description="Free text")
    limit: int = Field(default=20, ge=1, le=100)


pages = APIRouter()


@pages.get("/fast", openapi_extra={"parameters": query_parameters(Page)})
async def fast_page(request: Request) -> Response:
    return JSONResponse(parse_query(Page, request).model_dump())


@pages.get("/routed")
async def routed_page(page: Annotated[Page, Query()]) -> Response:
    return JSONResponse(page.model_dump())


@pytest.fixture(scope="module")
def pages_app() -> FastAPI:
    app = create_service_app(ServiceSettings(service_token="t"), title="t", routers=[pages])
    serve_ahead_of_router(app, pages.routes, fast_page)
    return app


@pytest.fixture(scope="module")
def pages_url(pages_app: FastAPI) -> Iterator[str]:
    with serve_app(pages_app) as base:
        yield base


@pytest.mark.parametrize(
    "query", ["", "?q=abc&limit=5", "?limit=0", "?limit=x&q=toolong", "?limit=3&limit=4"]
)
def test_a_query_read_by_the_fast_path_answers_as_fastapi_does(pages_url: str, query: str) -> None:
    fast, routed = (httpx.get(f"{pages_url}/{path}{query}") for path in ("fast", "routed"))
    assert fast.status_code == routed.status_code
    assert fast.headers["content-type"] == routed.headers["content-type"]
    body, expected = fast.json(), routed.json()
    if isinstance(body, dict):
        body.pop("instance", None)
        expected.pop("instance", None)
    assert body == expected


def test_the_query_is_documented_as_fastapi_documents_it(pages_app: FastAPI) -> None:
    paths = pages_app.openapi()["paths"]
    assert paths["/fast"]["get"]["parameters"] == paths["/routed"]["get"]["parameters"]


def test_a_route_with_dependencies_is_refused() -> None:
    """A router's credential check would be skipped: such a route checks for itself instead."""
    guarded = APIRouter(dependencies=[Depends(require_service)])

    @guarded.get("/internal/thing")
    async def guarded_thing(request: Request) -> Response:
        return Response()

    with pytest.raises(ValueError, match="has dependencies"):
        serve_ahead_of_router(FastAPI(), guarded.routes, guarded_thing)
