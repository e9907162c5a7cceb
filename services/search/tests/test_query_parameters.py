"""Turning query parameters into a search (no HTTP, no index)."""

from datetime import UTC, datetime, timedelta

import pytest
from ticketing_common.problems import Problem
from ticketing_search.model import (
    MAX_RESULT_WINDOW,
    BadCursor,
    SearchQuery,
    decode_cursor,
    encode_cursor,
    next_cursor,
)
from ticketing_search.schemas import SearchParams

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_defaults_search_upcoming_events() -> None:
    query = SearchParams().to_query(NOW)
    assert query == SearchQuery(starts_from=NOW, limit=20, offset=0)


def test_days_cover_whole_days_and_times_are_kept() -> None:
    query = SearchParams.model_validate(
        {"date_from": "2026-12-01", "date_to": "2026-12-03"}
    ).to_query(NOW)
    assert query.starts_from == datetime(2026, 12, 1, tzinfo=UTC)
    assert query.starts_until == datetime(2026, 12, 3, 23, 59, 59, 999999, tzinfo=UTC)
    exact = SearchParams.model_validate({"date_from": "2026-12-01T18:30:00+01:00"}).to_query(NOW)
    assert exact.starts_from == datetime(2026, 12, 1, 17, 30, tzinfo=UTC)


def test_blank_text_means_no_text() -> None:
    params = SearchParams.model_validate({"q": "  ", "city": "", "category": " rock "})
    assert (params.q, params.city, params.category) == (None, None, "rock")


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(Problem) as raised:
        SearchParams.model_validate({"date_to": "2026-01-01"}).to_query(NOW)
    assert raised.value.status == 422
    assert raised.value.extensions["errors"][0]["loc"] == ["query", "date_to"]


def test_cursors_round_trip_and_stop_at_the_end() -> None:
    assert decode_cursor(encode_cursor(40)) == 40
    query = SearchQuery(starts_from=NOW, limit=20, offset=40)
    assert decode_cursor(next_cursor(query, total=100) or "") == 60
    assert next_cursor(query, total=60) is None
    deep = SearchQuery(starts_from=NOW, limit=20, offset=MAX_RESULT_WINDOW - 20)
    assert next_cursor(deep, total=10 * MAX_RESULT_WINDOW) is None


@pytest.mark.parametrize("cursor", ["", "!!", "bnVsbA", "eyJvIjoidHdvIn0", "eyJvIjp0cnVlfQ"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor)


def test_the_parameters_keep_the_query_small() -> None:
    later = NOW + timedelta(days=1)
    query = SearchParams.model_validate(
        {"q": "x" * 200, "limit": 100, "date_from": later.isoformat()}
    ).to_query(NOW)
    assert (len(query.q or ""), query.limit, query.starts_from) == (200, 100, later)
