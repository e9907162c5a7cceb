"""The events service under test runs as a real process next to a real auth service (tokens) and
a real inventory service (seat state), on this session's PostgreSQL databases and Redis db."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from ticketing_common import platform
from ticketing_common.facts import Envelope
from ticketing_devkit import services
from ticketing_devkit.processes import ServiceProcess, free_port
from ticketing_devkit.pytest_plugin import bearer, eventually

SERVICE_TOKEN = {"X-Service-Token": "dev-service-token-not-for-production"}


@pytest.fixture(scope="session")
def auth(redis_url: str) -> Iterator[ServiceProcess]:
    with services.auth_service(redis_url, LOGIN_ATTEMPTS_PER_IP="10000") as process:
        yield process


@pytest.fixture(scope="session")
def events_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def inventory_env(redis_url: str, auth: ServiceProcess, events_port: int) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "JWKS_URL": f"{auth.url}/api/v1/auth/jwks",
        "ENVIRONMENT": "test",
        # Inventory rebuilds lost state from events and booking. No booking runs here (nothing
        # listens on that port): a lost event's state stays lost, and says so.
        "EVENTS_URL": f"http://127.0.0.1:{events_port}",
        "BOOKING_URL": f"http://127.0.0.1:{free_port()}",
    }


@pytest.fixture(scope="session")
def inventory(inventory_env: dict[str, str]) -> Iterator[ServiceProcess]:
    with services.running("inventory", inventory_env) as process:
        yield process


@pytest.fixture(scope="session")
def events_env(
    database_url: str, redis_url: str, auth: ServiceProcess, inventory: ServiceProcess
) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWKS_URL": f"{auth.url}/api/v1/auth/jwks",
        "INVENTORY_URL": inventory.url,
        "INVENTORY_CLOSE_RETRY_S": "0.3",
        # Short, so that a test can see another instance's change arrive (test_read_cache).
        "PUBLIC_READ_CACHE_TTL_S": "1.0",
        "ENVIRONMENT": "test",
    }
    services.setup("events", env)
    return env


@pytest.fixture(scope="session")
def events(events_env: dict[str, str], events_port: int) -> Iterator[ServiceProcess]:
    with services.process("events", events_env, port=events_port) as process:
        yield process


@pytest.fixture(scope="session")
def api(events: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{events.url}/api/v1", timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def internal(events: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{events.url}/internal", headers=SERVICE_TOKEN, timeout=30) as c:
        yield c


class Users:
    """Accounts made through the real auth service."""

    def __init__(self, auth_url: str) -> None:
        self.auth = platform.Platform(auth_url)
        self.admin_token = self.auth.login(*services.ADMIN)

    def new(self, role: str = "customer", organizer_id: str | None = None) -> tuple[str, str]:
        """(user_id, access token) of a fresh account with `role` (staff: of `organizer_id`)."""
        return self.auth.new_account(self.admin_token, role, organizer_id=organizer_id)


@pytest.fixture(scope="session")
def users(auth: ServiceProcess) -> Users:
    return Users(auth.url)


@pytest.fixture(scope="session")
def organizer(users: Users) -> tuple[str, str]:
    return users.new("organizer")


@pytest.fixture(scope="session")
def other_organizer(users: Users) -> tuple[str, str]:
    return users.new("organizer")


@pytest.fixture(scope="session")
def customer(users: Users) -> tuple[str, str]:
    return users.new("customer")


@pytest.fixture(scope="session")
def admin(users: Users) -> str:
    return users.admin_token


def venue_body(**overrides: Any) -> dict[str, Any]:
    """A small hall: stalls (2 rows of 3 and 4 seats), a balcony (1 row of 2), standing pit."""
    return {
        "name": "Test Hall",
        "city": "Testville",
        "country": "GB",
        "address": "1 Test Street",
        "timezone": "Europe/London",
        "sections": [
            {
                "section_id": "ST",
                "name": "Stalls",
                "kind": "seated",
                "rows": [{"label": "A", "seats": 3}, {"label": "B", "seats": 4}],
            },
            {
                "section_id": "BAL",
                "name": "Balcony",
                "kind": "seated",
                "rows": [{"label": "1", "seats": 2}],
            },
            {"section_id": "PIT", "name": "Pit", "kind": "standing", "capacity": 50},
        ],
    } | overrides


def event_body(venue_id: str, /, **overrides: Any) -> dict[str, Any]:
    return (
        platform.event_body(
            venue_id,
            "Test Night",
            description="A night of tests.",
            prices={"front": 5000, "back": 2500, "standing": 1500},
            currency="GBP",
            section_tiers={"ST": "front", "BAL": "back", "PIT": "standing"},
        )
        | overrides
    )


class Factory:
    def __init__(self, api: httpx.Client) -> None:
        self.api = api

    def venue(self, token: str, **overrides: Any) -> dict[str, Any]:
        response = self.api.post("/venues", json=venue_body(**overrides), headers=bearer(token))
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def event(
        self, token: str, venue: dict[str, Any] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        venue = venue or self.venue(token)
        body = event_body(venue["venue_id"], **overrides)
        response = self.api.post("/events", json=body, headers=bearer(token))
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def published(
        self, token: str, venue: dict[str, Any] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        event = self.event(token, venue, **overrides)
        response = self.api.post(f"/events/{event['event_id']}/publish", headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def make(api: httpx.Client) -> Factory:
    return Factory(api)


@pytest.fixture(scope="session")
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def facts_about(client: redis.Redis, event_id: str) -> list[Envelope]:
    """Every envelope on the event stream that concerns `event_id`, in stream order."""
    found = []
    for _, fields in client.xrange("facts:event"):
        envelope = Envelope.model_validate_json(fields[b"envelope"])
        if envelope.data.get("event_id") == event_id:
            found.append(envelope)
    return found


# Test modules cannot import conftest (importlib import mode): helpers reach them as fixtures.


@pytest.fixture(scope="session")
def service_token() -> dict[str, str]:
    return dict(SERVICE_TOKEN)


@pytest.fixture(name="venue_body", scope="session")
def venue_body_fixture() -> Callable[..., dict[str, Any]]:
    return venue_body


@pytest.fixture(name="event_body", scope="session")
def event_body_fixture() -> Callable[..., dict[str, Any]]:
    return event_body


@pytest.fixture(scope="session")
def facts(redis_client: redis.Redis) -> Callable[[str], list[Envelope]]:
    return lambda event_id: facts_about(redis_client, event_id)


@pytest.fixture(name="eventually", scope="session")
def eventually_fixture() -> Callable[..., Any]:
    return eventually


@pytest.fixture(scope="session")
def factory() -> type[Factory]:
    """For tests that run a service process of their own."""
    return Factory
