"""The hold route is served by FastPath ahead of FastAPI's router; it answers exactly as the same
route does through the router, and the service middleware still applies."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ticketing_common.fastpath import FastPath
from ticketing_devkit.processes import serve_app
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_inventory.main import create_app
from ticketing_inventory.settings import InventorySettings


@pytest.fixture(scope="module")
def through_router(redis_url: str, jwks_url: str) -> Iterator[str]:
    """The service in-process with FastPath taken out: FastAPI serves the hold route itself."""
    settings = InventorySettings(
        redis_url=redis_url, jwks_url=jwks_url, service_token="inventory-test-service-token"
    )
    app = create_app(settings)
    fast_path: Any = FastPath
    assert any(m.cls is fast_path for m in app.user_middleware)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not fast_path]
    with serve_app(app) as url:
        yield url


def _answers(inventory: Any, base_url: str, event: str) -> list[tuple[int, Any]]:
    path = f"{base_url}/api/v1/inventory/events/{{}}/holds"
    user = inventory.auth("ann")
    calls = [
        (path.format(event), {"seat_ids": ["A-1-1", "A-1-2"]}, user),  # 201
        (path.format(event), {"seat_ids": ["A-1-2"]}, inventory.auth("bob")),  # 409
        (path.format(event), {"seat_ids": ["A-9-9"]}, user),  # 404
        (path.format(event), {"seat_ids": ["A-1-3", "A-1-3"]}, user),  # 422
        (path.format(event), {"seat_ids": 7}, user),  # 422
        (path.format(event), b"{nope", user),  # 400
        (path.format("{bad}"), {"seat_ids": ["A-1-3"]}, user),  # 422 (path)
        (path.format(event), {"seat_ids": ["A-1-3"]}, {}),  # 401
    ]
    answers = []
    for url, body, headers in calls:
        if isinstance(body, bytes):
            response = httpx.post(
                url, content=body, headers=headers | {"Content-Type": "application/json"}
            )
        else:
            response = httpx.post(url, json=body, headers=headers)
        assert "x-request-id" in response.headers  # the service middleware still ran
        payload = response.json()
        for volatile in ("hold_id", "event_id", "expires_at", "instance"):
            payload.pop(volatile, None)
        answers.append((response.status_code, payload))
    return answers


def test_fastpath_answers_as_the_router_does(
    inventory: Any, through_router: str, redis_url: str
) -> None:
    layout = inventory.layout({"A": (1, 5)})
    fast = _answers(inventory, inventory.url, inventory.create_event(layout))
    routed = _answers(inventory, through_router, inventory.create_event(layout))
    assert [status for status, _ in fast] == [201, 409, 404, 422, 422, 400, 422, 401]
    assert fast == routed


def test_fastpath_leaves_other_routes_to_the_router(inventory: Any) -> None:
    event = inventory.create_event(inventory.layout({"A": (1, 5)}))
    wrong_method = inventory.http.get(f"/api/v1/inventory/events/{event}/holds")
    assert_problem(wrong_method, 405)
    assert inventory.availability(event)["event_id"] == event
