"""The reindex's source: every published event, paged from the events service's
`GET /internal/search-documents?cursor=&limit=` → `{items: [EventPublished data], next_cursor}`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

from pydantic import ValidationError
from ticketing_common.facts import EventPublished
from ticketing_common.http_client import ServiceClient

from ticketing_search.backend import ReindexFailed
from ticketing_search.model import SearchDocument


async def search_documents(
    client: ServiceClient, events_url: str, page_size: int
) -> AsyncIterator[list[SearchDocument]]:
    """Pages of documents, in the events service's order. Anything unexpected fails the reindex
    (which then leaves the live index alone) rather than building a partial index."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        query: dict[str, str | int] = {"limit": page_size}
        if cursor:
            query["cursor"] = cursor
        url = f"{events_url.rstrip('/')}/internal/search-documents?{urlencode(query)}"
        response = await client.call("events", "GET", url, timeout_s=60)
        if not response.ok or not isinstance(response.body, dict):
            raise ReindexFailed(f"the events service answered {response.status}: {response.body}")
        try:
            page = [
                SearchDocument.from_fact(EventPublished.model_validate(item))
                for item in response.body["items"]
            ]
        except (KeyError, TypeError, ValidationError) as exc:
            raise ReindexFailed(f"the events service sent an unreadable page: {exc}") from exc
        yield page
        cursor = response.body.get("next_cursor")
        if not cursor:
            return
        if cursor in seen:
            raise ReindexFailed(f"the events service repeated the cursor {cursor!r}")
        seen.add(cursor)
