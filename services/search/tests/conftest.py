import contextlib
import os
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis
import ticketing_search.cli
from ticketing_common.facts import Envelope, EventCancelled, EventPublished, EventUpdated, FactData
from ticketing_common.migrations import migrations_dir, upgrade
from ticketing_devkit.processes import ServiceProcess, run_command
from ticketing_devkit.pytest_plugin import eventually
from ticketing_devkit.stores import temporary_database, temporary_redis_db

OPENSEARCH_URL = os.environ.get("OPENSEARCH_URL")
BACKENDS = [
    pytest.param("postgres", id="postgres"),
    pytest.param(
        "opensearch",
        id="opensearch",
        marks=pytest.mark.skipif(
            not OPENSEARCH_URL,
            reason="OPENSEARCH_URL is not set: the behavioural suite ran against the embedded "
            "PostgreSQL backend only (set it, e.g. to the compose OpenSearch, to run it there)",
        ),
    ),
]


def word(length: int = 9) -> str:
    """A made-up, pronounceable word no other test uses (so tests share one index safely)."""
    letters = []
    for index in range(length):
        pool = "bdfgklmnprstvz" if index % 2 == 0 else "aeiou"
        letters.append(random.choice(pool))
    return "".join(letters).capitalize()


def typo(text: str) -> str:
    """The word with one letter left out from its middle."""
    middle = len(text) // 2
    return text[:middle] + text[middle + 1 :]


def search_env(
    backend: str, database_url: str, redis_url: str, *, migrate_in_process: bool = False
) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ENVIRONMENT": "test",
        "BUS_BACKOFF_S": "0.1",
        "BUS_MAX_BACKOFF_S": "0.5",
    }
    if backend == "opensearch":
        assert OPENSEARCH_URL
        env["OPENSEARCH_URL"] = OPENSEARCH_URL
        env["OPENSEARCH_ALIAS"] = f"test-events-{uuid.uuid4().hex[:10]}"
        env["OPENSEARCH_REPLICAS"] = "0"
    if migrate_in_process and backend == "postgres":
        # The same alembic upgrade `migrate` runs, without starting another interpreter.
        upgrade(database_url, migrations_dir(ticketing_search.cli.__file__))
    else:
        run_command([sys.executable, "-m", "ticketing_search", "migrate"], env)
    return env


@dataclass
class Stack:
    """A running search service and the bus it consumes."""

    process: ServiceProcess
    env: dict[str, str]
    bus: redis.Redis
    api: httpx.Client
    backend: str
    word = staticmethod(word)
    typo = staticmethod(typo)

    @staticmethod
    def event(**overrides: Any) -> EventPublished:
        fields: dict[str, Any] = {
            "event_id": uuid.uuid4().hex,
            "organizer_id": "organizer-1",
            "title": f"{word()} Live",
            "description": "",
            "category": "concert",
            "status": "on_sale",
            "venue_id": "venue-1",
            "venue_name": "Arena",
            "city": "Berlin",
            "country": "DE",
            "starts_at": datetime.now(UTC) + timedelta(days=30),
            "currency": "EUR",
            "min_price_cents": 5000,
        }
        return EventPublished(**(fields | overrides))

    @staticmethod
    def updated(fact: EventPublished, **changes: Any) -> EventUpdated:
        return EventUpdated(**(fact.model_dump() | changes))

    @staticmethod
    def cancelled(fact: EventPublished) -> EventCancelled:
        return EventCancelled(event_id=fact.event_id, organizer_id=fact.organizer_id)

    def publish(self, fact: FactData, occurred_at: datetime | None = None) -> Envelope:
        envelope = Envelope.of(fact, "events")
        if occurred_at is not None:
            envelope = envelope.model_copy(update={"occurred_at": occurred_at})
        self.bus.xadd(envelope.stream, {"envelope": envelope.model_dump_json()})
        return envelope

    def search(self, **params: Any) -> dict[str, Any]:
        response = self.api.get("/events", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def suggest(self, q: str) -> list[str]:
        response = self.api.get("/suggest", params={"q": q})
        assert response.status_code == 200, response.text
        suggestions: list[str] = response.json()["suggestions"]
        return suggestions

    def titles(self, **params: Any) -> set[str]:
        return {item["title"] for item in self.search(**params)["items"]}

    def eventually(self, check: Callable[[], bool], timeout_s: float = 30.0) -> None:
        """Facts reach the index asynchronously: wait (bounded) for `check` to hold. The bound
        is a ceiling for a loaded CI machine, not a speed claim: a fresh stack's consumer
        took over 10 s to index six facts there once."""
        eventually(check, timeout_s, logs=self.process.logs)


@contextlib.contextmanager
def running_stack(backend: str, *, migrate_in_process: bool = False) -> Iterator[Stack]:
    """A search service with its own database and its own Redis db (so two stacks never share
    a consumer group)."""
    with temporary_database() as database_url, temporary_redis_db() as redis_url:
        env = search_env(backend, database_url, redis_url, migrate_in_process=migrate_in_process)
        bus = redis.Redis.from_url(redis_url)
        with (
            ServiceProcess(
                "ticketing_search.main:create_app", env, name=f"search-{backend}"
            ) as process,
            httpx.Client(base_url=f"{process.url}/api/v1/search", timeout=10) as api,
        ):
            yield Stack(process, env, bus, api, backend)
        bus.close()


@pytest.fixture(scope="session", params=BACKENDS)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """One running service per backend, shared by the behavioural tests (each uses its own
    made-up words, cities and categories)."""
    with running_stack(request.param) as running:
        yield running


@pytest.fixture(params=BACKENDS)
def fresh_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A service of its own, for tests that rebuild the whole index."""
    with running_stack(request.param, migrate_in_process=True) as running:
        yield running
