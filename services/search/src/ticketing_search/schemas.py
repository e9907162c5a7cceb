"""The search API's query parameters and answers (paths and field names: API.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from ticketing_common.problems import Problem, unprocessable

from ticketing_search.model import BadCursor, SearchQuery, decode_cursor

MAX_QUERY_LENGTH = 200

# A timestamp with its offset (RFC 3339) or a day; a day means the whole day (UTC).
DateOrTime = AwareDatetime | date


def _blank_is_absent(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class SearchParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(default=None, max_length=MAX_QUERY_LENGTH, description="Free text")
    city: str | None = Field(default=None, max_length=128)
    category: str | None = Field(default=None, max_length=64)
    date_from: DateOrTime | None = Field(
        default=None,
        union_mode="left_to_right",
        description="Events starting at or after this (default: now; past events are not on sale)",
    )
    date_to: DateOrTime | None = Field(
        default=None,
        union_mode="left_to_right",
        description="Events starting at or before this (a day includes all of it)",
    )
    price_max_cents: int | None = Field(default=None, ge=0, le=1_000_000_000)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)

    _blanks = field_validator("q", "city", "category", "cursor", mode="before")(_blank_is_absent)

    def to_query(self, now: datetime) -> SearchQuery:
        starts_from = _moment(self.date_from, time.min) if self.date_from else now
        starts_until = _moment(self.date_to, time.max) if self.date_to else None
        if starts_until is not None and starts_until < starts_from:
            raise _invalid("date_to", "date_to is before date_from (or before now)")
        try:
            offset = decode_cursor(self.cursor) if self.cursor else 0
        except BadCursor as exc:
            raise _invalid("cursor", str(exc)) from exc
        return SearchQuery(
            starts_from=starts_from,
            q=self.q,
            city=self.city,
            category=self.category,
            starts_until=starts_until,
            price_max_cents=self.price_max_cents,
            limit=self.limit,
            offset=offset,
        )


def _moment(value: datetime | date, day_edge: time) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, day_edge, tzinfo=UTC)


def _invalid(parameter: str, message: str) -> Problem:
    return unprocessable((["query", parameter], message, "value_error"))


class SuggestParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str = Field(min_length=1, max_length=100, description="What has been typed so far")
    limit: int = Field(default=10, ge=1, le=20)

    @field_validator("q", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class SearchHit(BaseModel):
    event_id: str
    title: str
    venue_name: str
    city: str
    category: str
    starts_at: datetime
    min_price_cents: int
    currency: str


class Facets(BaseModel):
    city: dict[str, int] = Field(description="City name → matching events (category filter only)")
    category: dict[str, int] = Field(description="Category → matching events (city filter only)")


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int
    facets: Facets
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last one"
    )


class Suggestions(BaseModel):
    suggestions: list[str]
