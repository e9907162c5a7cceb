"""FastPath (ticketing_common.fastpath) over real HTTP: the routes it is given are served ahead of
the router, a route declared before one of them still wins, and the app's exception handlers
answer for the fast routes as they do for the others."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from ticketing_common.fastpath import serve_ahead_of_router
from ticketing_common.problems import Problem
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
