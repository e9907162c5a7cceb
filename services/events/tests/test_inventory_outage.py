"""Publishing and cancelling while inventory is down. This module runs its own inventory and
events processes so it can stop and restart inventory without disturbing other tests."""

from collections.abc import Iterator

import httpx
import pytest
import redis
from ticketing_devkit.processes import ServiceProcess, free_port
from ticketing_devkit.pytest_plugin import assert_problem, bearer


class Restartable:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.process: ServiceProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = ServiceProcess(
            "ticketing_inventory.main:create_app", self.env, port=self.port, name="inventory-2"
        ).start()

    def stop(self) -> None:
        if self.process:
            self.process.stop()
            self.process = None


@pytest.fixture(scope="module")
def flaky_inventory(inventory_env: dict[str, str]) -> Iterator[Restartable]:
    inventory = Restartable(inventory_env)
    inventory.start()
    yield inventory
    inventory.stop()


@pytest.fixture(scope="module")
def service(events_env: dict[str, str], flaky_inventory: Restartable) -> Iterator[httpx.Client]:
    env = events_env | {"INVENTORY_URL": flaky_inventory.url}
    with (
        ServiceProcess("ticketing_events.main:create_app", env, name="events-2") as events,
        httpx.Client(base_url=f"{events.url}/api/v1", timeout=30) as client,
    ):
        yield client


def test_publish_with_inventory_down_is_503_and_leaves_a_draft(  # type: ignore[no-untyped-def]
    service: httpx.Client, flaky_inventory: Restartable, organizer, facts, eventually, factory
) -> None:
    token = organizer[1]
    venue = factory(service).venue(token)
    event = factory(service).event(token, venue)
    path = f"/events/{event['event_id']}"

    flaky_inventory.stop()
    try:
        response = service.post(f"{path}/publish", headers=bearer(token))
        body = assert_problem(response, 503)
        assert body["service"] == "inventory"
        assert response.headers["retry-after"]
        assert service.get(path, headers=bearer(token)).json()["status"] == "draft"
        assert service.get("/events", params={"city": "Testville", "limit": 100}).status_code == 200
        # Still an editable draft: nothing half-published.
        assert (
            service.patch(path, json={"title": "Retry"}, headers=bearer(token)).status_code == 200
        )
    finally:
        flaky_inventory.start()

    published = service.post(f"{path}/publish", headers=bearer(token))
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "on_sale"
    availability = httpx.get(
        f"{flaky_inventory.url}/api/v1/inventory/events/{event['event_id']}/availability"
    )
    assert availability.status_code == 200
    eventually(lambda: "event.published" in [e.type for e in facts(event["event_id"])])
    types = [e.type for e in facts(event["event_id"])]
    assert types == ["event.updated", "event.published"]  # the failed publish left no fact


def test_cancel_with_inventory_down_cancels_and_inventory_closes_later(  # type: ignore[no-untyped-def]
    service: httpx.Client, flaky_inventory: Restartable, organizer, facts, eventually, factory
) -> None:
    token = organizer[1]
    event = factory(service).published(token)
    availability = f"{flaky_inventory.url}/api/v1/inventory/events/{event['event_id']}/availability"

    flaky_inventory.stop()
    try:
        response = service.post(f"/events/{event['event_id']}/cancel", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        # The fact that drives refunds does not wait for inventory.
        eventually(lambda: "event.cancelled" in [e.type for e in facts(event["event_id"])])
    finally:
        flaky_inventory.start()
    # The closer retries every 0.3 s in tests: inventory stops selling without anyone asking.
    eventually(lambda: httpx.get(availability).json()["status"] == "closed")


def test_a_stale_layout_left_by_an_interrupted_publish_is_replaced(  # type: ignore[no-untyped-def]
    service: httpx.Client, flaky_inventory: Restartable, organizer, factory, service_token
) -> None:
    """A publish that initialised inventory but died before committing, then the draft moved to
    another layout: inventory holds the old one. Publishing again must converge to the new."""
    token = organizer[1]
    venue = factory(service).venue(token)
    event = factory(service).event(token, venue)
    event_id = event["event_id"]
    old = {
        "seats": [
            {"seat_id": f"{s}-{r}-{n}", "section_id": s, "price_tier": "front"}
            for s, rows in (("ST", (("A", 3),)), ("BAL", (("1", 2),)))
            for r, count in rows
            for n in range(1, count + 1)
        ],
        "standing": [{"section_id": "PIT", "capacity": 50, "price_tier": "standing"}],
    }
    put = httpx.put(
        f"{flaky_inventory.url}/internal/events/{event_id}/layout", json=old, headers=service_token
    )
    assert put.status_code == 200, put.text

    published = service.post(f"/events/{event_id}/publish", headers=bearer(token))
    assert published.status_code == 200, published.text
    availability = httpx.get(
        f"{flaky_inventory.url}/api/v1/inventory/events/{event_id}/availability?seats=true"
    ).json()
    capacities = {s["section_id"]: s["capacity"] for s in availability["sections"]}
    assert capacities == {"ST": 7, "BAL": 2, "PIT": 50}  # the stale layout had 3 stalls seats
    assert availability["seats"]["ST-B-4"] == "available"


def test_the_seat_map_says_503_while_inventory_is_down(  # type: ignore[no-untyped-def]
    service: httpx.Client, flaky_inventory: Restartable, organizer, factory
) -> None:
    event = factory(service).published(organizer[1])
    flaky_inventory.stop()
    try:
        assert_problem(service.get(f"/events/{event['event_id']}/seatmap"), 503)
        assert service.get(f"/events/{event['event_id']}").status_code == 200
    finally:
        flaky_inventory.start()


def test_the_seat_map_never_shows_a_lost_event_as_free(  # type: ignore[no-untyped-def]
    service: httpx.Client, flaky_inventory: Restartable, organizer, factory, redis_url
) -> None:
    """Inventory lost the event's state (a cache loss) and cannot rebuild it yet (booking, which
    knows what is sold, is not reachable here): the seat map says 503, not "everything free"."""
    event = factory(service).published(organizer[1])
    path = f"/events/{event['event_id']}/seatmap"
    assert service.get(path).status_code == 200
    store = redis.Redis.from_url(redis_url)
    store.delete(*store.keys(f"inv:{{{event['event_id']}}}:*"))
    response = service.get(path)
    body = assert_problem(response, 503)
    assert body["service"] == "inventory"
    assert response.headers["retry-after"]
    availability = httpx.get(
        f"{flaky_inventory.url}/api/v1/inventory/events/{event['event_id']}/availability"
    )
    assert_problem(availability, 503)["type"].endswith("/inventory-rebuilding")
    store.close()
