"""The one interface the service uses to index and search, whichever engine is behind it.

Writes are versioned by the time of the fact that caused them: a write older than what the index
already holds for that event is ignored, so redelivered or reordered facts never roll an event
back, and a cancellation is never undone by a late update.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from ticketing_common.problems import Problem, ProblemType
from ticketing_common.resources import Resource

from ticketing_search.model import SearchDocument, SearchQuery, SearchResult


@dataclass(frozen=True)
class ReindexReport:
    indexed: int
    target: str  # what now serves searches (an index name, or the table)


class DocumentRejected(Exception):
    """The index refuses this document as it is (retrying the same write cannot help)."""


class SearchUnavailable(Problem):
    def __init__(self, reason: str) -> None:
        super().__init__(
            503,
            f"Search is unavailable ({reason}); try again shortly",
            slug=ProblemType.SEARCH_UNAVAILABLE,
            headers={"Retry-After": "2"},
        )


class ReindexFailed(Exception):
    """The rebuild could not complete; searches keep being served from the previous index."""


class SearchBackend(Resource, abc.ABC):
    name = "search_backend"

    @abc.abstractmethod
    async def upsert(self, document: SearchDocument, version: datetime) -> None:
        """Store `document` unless the index holds a write for it newer than `version`."""

    @abc.abstractmethod
    async def remove(self, event_id: str, version: datetime) -> None:
        """Take the event out of search results (unless a newer write exists)."""

    @abc.abstractmethod
    async def search(self, query: SearchQuery) -> SearchResult: ...

    @abc.abstractmethod
    async def suggest(self, prefix: str, limit: int, starts_from: datetime) -> list[str]:
        """Titles of listed events matching `prefix` as a word prefix or with a typo."""

    @abc.abstractmethod
    async def reindex(
        self, pages: AsyncIterator[list[SearchDocument]], started_at: datetime
    ) -> ReindexReport:
        """Rebuild from a full snapshot taken from `started_at` on, with no downtime: searches
        are served from the old state until the new one is complete. Facts newer than
        `started_at` win over the snapshot; events absent from it leave the index."""
