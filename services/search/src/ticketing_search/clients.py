"""The reindex's source: every published event, paged from the events service
(`contracts.SEARCH_DOCUMENTS`: `{items: [event.published data], next_cursor}`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ticketing_common import contracts
from ticketing_common.peers import PeerClient, PeerUnavailable

from ticketing_search.backend import ReindexFailed
from ticketing_search.model import SearchDocument


class EventsClient(PeerClient):
    async def search_documents(self, page_size: int) -> AsyncIterator[list[SearchDocument]]:
        """Pages of documents, in the events service's order. Anything unexpected fails the
        reindex (which then leaves the live index alone) rather than building a partial index."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query: dict[str, str | int] = {"limit": page_size}
            if cursor:
                query["cursor"] = cursor
            try:
                page = await self.send(contracts.SEARCH_DOCUMENTS, query=query)
            except PeerUnavailable as exc:
                raise ReindexFailed(f"the events service could not be read: {exc}") from exc
            yield [SearchDocument.from_fact(item) for item in page.items]
            cursor = page.next_cursor
            if not cursor:
                return
            if cursor in seen:
                raise ReindexFailed(f"the events service repeated the cursor {cursor!r}")
            seen.add(cursor)
