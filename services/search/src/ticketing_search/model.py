"""What the index holds and what a search asks, independent of the backend that answers it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict
from ticketing_common.facts import EventFact

# Results are paged by offset inside a bounded window, as search engines do (OpenSearch's
# max_result_window): relevance order is not a stable key to page on, and nobody reads page 50.
MAX_RESULT_WINDOW = 1000


class SearchDocument(BaseModel):
    """One event as the index stores it: the search-relevant part of an EventFact."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    title: str
    description: str = ""
    category: str
    venue_name: str
    city: str
    country: str = ""
    starts_at: datetime
    min_price_cents: int
    currency: str
    status: str

    @classmethod
    def from_fact(cls, fact: EventFact) -> SearchDocument:
        return cls.model_validate(fact.model_dump())

    @property
    def listed(self) -> bool:
        """Only events on sale are found; drafts and cancelled events are not."""
        return self.status == "on_sale"

    def hit(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "title": self.title,
            "venue_name": self.venue_name,
            "city": self.city,
            "category": self.category,
            "starts_at": self.starts_at,
            "min_price_cents": self.min_price_cents,
            "currency": self.currency,
        }


@dataclass(frozen=True)
class SearchQuery:
    """A validated search. `starts_from` is always set (the API defaults it to now)."""

    starts_from: datetime
    q: str | None = None
    city: str | None = None
    category: str | None = None
    starts_until: datetime | None = None  # inclusive
    price_max_cents: int | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchResult:
    items: list[dict[str, Any]]
    total: int
    # Each facet counts the matches under every filter except its own, so a client can offer
    # "other cities" next to the city it has selected.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def next_cursor(query: SearchQuery, total: int) -> str | None:
    following = query.offset + query.limit
    if following >= min(total, MAX_RESULT_WINDOW):
        return None
    return encode_cursor(following)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


class BadCursor(ValueError):
    pass


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        offset = value["o"]
    except (binascii.Error, ValueError, UnicodeEncodeError, TypeError, KeyError) as exc:
        raise BadCursor("The cursor is not one this service issued") from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise BadCursor("The cursor is not one this service issued")
    if offset >= MAX_RESULT_WINDOW:
        raise BadCursor(f"Results are available up to position {MAX_RESULT_WINDOW}")
    return offset
