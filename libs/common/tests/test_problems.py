import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict
from ticketing_common.app import create_service_app
from ticketing_common.problems import Problem
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import serve_app
from ticketing_devkit.pytest_plugin import assert_problem

router = APIRouter()


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


@router.post("/echo")
async def echo(body: Payload) -> Payload:
    return body


@router.get("/conflict")
async def conflicting() -> None:
    raise Problem(409, "Seats are taken", slug="seats-unavailable", unavailable=["A-1-1"])


@router.get("/teapot")
async def teapot() -> None:
    raise HTTPException(418, "I am a teapot, not a coffee pot")


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_service_app(
        ServiceSettings(service_name="t", max_body_bytes=2048), title="t", routers=[router]
    )
    with serve_app(app) as url:
        yield url


def test_problem_carries_its_type_and_extensions(base_url: str) -> None:
    body = assert_problem(httpx.get(f"{base_url}/conflict"), 409, detail="Seats are taken")
    assert body["type"].endswith("/seats-unavailable")
    assert body["unavailable"] == ["A-1-1"]
    assert body["instance"] == "/conflict"


def test_http_errors_become_problems(base_url: str) -> None:
    assert_problem(httpx.get(f"{base_url}/teapot"), 418, detail="I am a teapot, not a coffee pot")
    body = assert_problem(httpx.get(f"{base_url}/nowhere"), 404)
    assert body["type"].endswith("/not-found")
    assert body["detail"] == "Nothing is served at /nowhere"
    refused = httpx.delete(f"{base_url}/echo")
    body = assert_problem(refused, 405)
    assert body["type"].endswith("/method-not-allowed")
    assert body["detail"] == f"DELETE is not allowed on /echo; allowed: {refused.headers['allow']}"


def test_unexpected_errors_hide_internals(base_url: str) -> None:
    response = httpx.get(f"{base_url}/boom")
    assert_problem(response, 500)
    assert "secret internals" not in response.text


def test_an_unexpected_error_keeps_the_connection_open(base_url: str) -> None:
    """Callers (the gateway above all) keep connections alive: a crash in one request must not
    break the connection the next request, maybe someone else's, goes out on."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        stream = connection.makefile("rb")
        for path, status in (("/boom", 500), ("/conflict", 409), ("/boom", 500), ("/teapot", 418)):
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            status_line = stream.readline()
            assert status_line.split()[1] == str(status).encode(), (path, status_line)
            length = 0
            while (header := stream.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                assert (name.lower(), value.strip()) != ("connection", "close"), path
            assert json.loads(stream.read(length))["status"] == status


def test_nul_in_the_url_is_a_400(base_url: str) -> None:
    assert_problem(httpx.get(f"{base_url}/conflict%00"), 400)
    assert_problem(httpx.get(f"{base_url}/conflict?q=a%00b"), 400)
    # "%2500" is the text "%00", which is fine
    assert_problem(httpx.get(f"{base_url}/conflict?q=%2500"), 409)


def test_validation_errors_list_each_field(base_url: str) -> None:
    response = httpx.post(f"{base_url}/echo", json={"name": 3, "count": "many", "extra": 1})
    body = assert_problem(response, 422)
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert {("body", "name"), ("body", "count"), ("body", "extra")} <= locations


def test_malformed_json_is_a_400(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/echo", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("payload", [[], "text", 12, None])
def test_wrong_top_level_types_are_422(base_url: str, payload: object) -> None:
    assert_problem(httpx.post(f"{base_url}/echo", json=payload), 422)


def test_oversized_body_is_413_by_declared_length(base_url: str) -> None:
    response = httpx.post(f"{base_url}/echo", json={"name": "x" * 5000, "count": 1})
    assert_problem(response, 413)


def test_oversized_streamed_body_is_413(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'", "count": 1}'

    response = httpx.post(
        f"{base_url}/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


def test_a_good_request_still_works(base_url: str) -> None:
    response = httpx.post(f"{base_url}/echo", json={"name": "ok", "count": 2})
    assert response.status_code == 200
    assert response.json() == {"name": "ok", "count": 2}


def test_the_public_contract_names_every_problem_type() -> None:
    """docs/api.md ("Problem types") says what each problem type of the catalogue means."""
    from pathlib import Path

    from ticketing_common.problems import ProblemType

    api = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()
    section = api[api.index("## Problem types") :]
    assert [t.value for t in ProblemType if f"`{t.value}`" not in section] == []
