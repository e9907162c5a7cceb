import logging
from collections.abc import Iterator

import httpx
import orjson
import pytest
from fastapi import APIRouter, Request
from ticketing_common.app import create_service_app
from ticketing_common.logging import JsonFormatter, request_id_var
from ticketing_common.middleware import client_ip
from ticketing_common.settings import ServiceSettings
from ticketing_devkit.processes import serve_app

router = APIRouter()


@router.get("/whoami")
async def whoami(request: Request) -> dict[str, str | None]:
    return {"request_id": request_id_var.get(), "ip": client_ip(request, 1)}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_service_app(ServiceSettings(service_name="t"), title="t", routers=[router])
    with serve_app(app) as url:
        yield url


def test_request_id_is_generated_and_returned(base_url: str) -> None:
    response = httpx.get(f"{base_url}/whoami")
    generated = response.headers["x-request-id"]
    assert len(generated) == 32
    assert response.json()["request_id"] == generated


def test_request_id_is_propagated(base_url: str) -> None:
    response = httpx.get(f"{base_url}/whoami", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


def test_unsafe_request_id_is_replaced(base_url: str) -> None:
    response = httpx.get(f"{base_url}/whoami", headers={"X-Request-ID": "a b<script>"})
    assert response.headers["x-request-id"] != "a b<script>"


def test_client_ip_trusts_only_the_proxies_hop(base_url: str) -> None:
    response = httpx.get(f"{base_url}/whoami", headers={"X-Forwarded-For": "6.6.6.6, 10.1.2.3"})
    assert response.json()["ip"] == "10.1.2.3"  # the left entry is whatever the client claimed
    assert httpx.get(f"{base_url}/whoami").json()["ip"] == "127.0.0.1"


def test_json_log_lines_carry_request_id_and_extras() -> None:
    record = logging.makeLogRecord(
        {
            "msg": "hold placed %s",
            "args": ("h1",),
            "levelname": "INFO",
            "name": "inventory",
            "seats": 3,
        }
    )
    token = request_id_var.set("rid-1")
    try:
        line = orjson.loads(JsonFormatter("inventory").format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hold placed h1"
    assert line["request_id"] == "rid-1"
    assert line["service"] == "inventory"
    assert line["seats"] == 3
    assert line["level"] == "info"
