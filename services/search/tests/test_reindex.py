"""`python -m ticketing_search reindex` against an events service speaking the contract
`GET /internal/search-documents?cursor=&limit=` → `{items: [EventPublished data], next_cursor}`.

The events service is built on another branch; here it is a small HTTP server of the test's own
that serves that contract (and checks the service credential)."""

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse
from ticketing_common.facts import EventPublished
from ticketing_devkit.processes import serve_app

Stack = Any  # the `fresh_stack` fixture (conftest)
SERVICE_TOKEN = "dev-service-token-not-for-production"


class FakeEvents:
    """Serves `documents` in pages; `on_page(n)` runs before page n is answered."""

    def __init__(self) -> None:
        self.documents: list[EventPublished | dict[str, Any]] = []
        self.page_delay_s = 0.0
        self.fail_on_page: int | None = None
        self.on_page: Callable[[int], None] = lambda page: None
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()

        @self.app.get("/internal/search-documents")
        def documents(
            limit: int = Query(),
            cursor: str | None = None,
            x_service_token: str | None = Header(default=None),
        ) -> Any:
            if x_service_token != SERVICE_TOKEN:
                return JSONResponse({"title": "Unauthorized"}, status_code=401)
            page = len(self.requests)
            self.requests.append({"limit": limit, "cursor": cursor})
            self.on_page(page)
            time.sleep(self.page_delay_s)
            if page == self.fail_on_page:
                return JSONResponse({"title": "boom"}, status_code=500)
            start = int(cursor or 0)
            items = self.documents[start : start + limit]
            following = start + limit
            return {
                "items": [
                    item if isinstance(item, dict) else item.model_dump(mode="json")
                    for item in items
                ],
                "next_cursor": str(following) if following < len(self.documents) else None,
            }


@pytest.fixture
def events() -> Iterator[tuple[FakeEvents, str]]:
    fake = FakeEvents()
    with serve_app(fake.app) as url:
        yield fake, url


def reindex(stack: Stack, events_url: str, page_size: int = 2) -> subprocess.CompletedProcess[str]:
    env = stack.process.env | {"EVENTS_URL": events_url, "REINDEX_PAGE_SIZE": str(page_size)}
    import os

    return subprocess.run(
        [sys.executable, "-m", "ticketing_search", "reindex"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def indexed(stack: Stack, *facts: EventPublished) -> None:
    for fact in facts:
        stack.publish(fact)
    for fact in facts:
        stack.eventually(lambda fact=fact: stack.search(q=fact.title.split()[0])["total"] == 1)


def test_reindex_rebuilds_the_index_from_the_events_service(fresh_stack: Stack, events) -> None:  # type: ignore[no-untyped-def]
    stack, (fake, url) = fresh_stack, events
    kept, dropped, live = stack.event(), stack.event(), stack.event()
    indexed(stack, kept, dropped, live)
    renamed = stack.updated(kept, title=f"{stack.word()} Renamed")
    stale = stack.updated(live, title=f"{stack.word()} Stale")
    fresh = stack.updated(live, title=f"{stack.word()} Fresh")
    new = [stack.event() for _ in range(2)]
    # The snapshot: `kept` renamed, `dropped` gone (unpublished while its fact was lost),
    # `live` as it was when the rebuild started, and two events the index never saw.
    fake.documents = [EventPublished(**renamed.model_dump()), EventPublished(**stale.model_dump())]
    fake.documents += new

    def update_during_the_rebuild(page: int) -> None:
        if page == 1:  # the rebuild has started and read its first page
            stack.publish(fresh)
            stack.eventually(lambda: stack.search(q=fresh.title.split()[0])["total"] == 1)

    fake.on_page = update_during_the_rebuild
    result = reindex(stack, url, page_size=2)
    assert result.returncode == 0, result.stderr
    assert '"indexed": 4' in result.stdout
    assert [r["cursor"] for r in fake.requests] == [None, "2"]
    assert all(r["limit"] == 2 for r in fake.requests)

    assert stack.titles(q=renamed.title.split()[0]) == {renamed.title}
    assert stack.search(q=kept.title.split()[0])["total"] == 0
    assert stack.search(q=dropped.title.split()[0])["total"] == 0
    for fact in new:
        assert stack.titles(q=fact.title.split()[0]) == {fact.title}
    # A fact newer than the snapshot wins over it.
    assert stack.titles(q=fresh.title.split()[0]) == {fresh.title}
    assert stack.search(q=stale.title.split()[0])["total"] == 0
    # The rebuilt index keeps following the bus.
    indexed(stack, stack.event())


def test_searches_keep_answering_during_a_reindex(fresh_stack: Stack, events) -> None:  # type: ignore[no-untyped-def]
    stack, (fake, url) = fresh_stack, events
    city = stack.word()
    facts = [stack.event(city=city) for _ in range(6)]
    indexed(stack, *facts)
    fake.documents = facts
    fake.page_delay_s = 0.3
    totals: list[int] = []
    done = threading.Event()

    def keep_searching() -> None:
        while not done.is_set() and len(totals) < 500:
            totals.append(stack.search(city=city)["total"])
            time.sleep(0.02)

    reader = threading.Thread(target=keep_searching)
    reader.start()
    try:
        result = reindex(stack, url, page_size=2)
    finally:
        done.set()
        reader.join(10)
    assert result.returncode == 0, result.stderr
    assert len(fake.requests) == 3
    assert len(totals) >= 10
    assert set(totals) == {6}


def test_a_failed_reindex_leaves_the_index_alone(fresh_stack: Stack, events) -> None:  # type: ignore[no-untyped-def]
    stack, (fake, url) = fresh_stack, events
    existing = stack.event()
    indexed(stack, existing)
    newcomer = stack.event()
    broken = stack.event().model_dump(mode="json") | {"starts_at": "whenever"}

    def attempt(events_url: str, expected: str) -> None:
        fake.requests.clear()
        result = reindex(stack, events_url, page_size=1)
        assert result.returncode != 0
        assert expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert stack.titles(q=existing.title.split()[0]) == {existing.title}
        assert stack.search(q=newcomer.title.split()[0])["total"] == 0

    fake.documents = [newcomer, stack.event()]
    fake.fail_on_page = 1
    attempt(url, "(answered 500)")
    fake.fail_on_page = None
    fake.documents = [newcomer, broken]
    attempt(url, "answered outside its contract")
    attempt("http://127.0.0.1:9", "events service is unavailable")
