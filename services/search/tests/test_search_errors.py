"""Bad input answers a 422 problem (never a 500), whatever the backend."""

from typing import Any

import pytest
from ticketing_devkit.pytest_plugin import assert_problem

Stack = Any  # the `stack` fixture (conftest)

BAD_SEARCHES = [
    {"limit": "0"},
    {"limit": "1000"},
    {"limit": "ten"},
    {"date_from": "yesterday"},
    {"date_from": "2026-13-01"},
    {"date_to": "2026-05-01T10:00:00"},  # no offset: ambiguous
    {"date_from": "2030-01-02", "date_to": "2030-01-01"},
    {"price_max_cents": "-1"},
    {"price_max_cents": "12.5"},
    {"q": "x" * 201},
    {"cursor": "not-a-cursor"},
    {"cursor": "eyJvIjogLTF9"},  # {"o": -1}
    {"cursor": "eyJvIjo1MDAwfQ"},  # {"o": 5000}: past the result window
]


@pytest.mark.parametrize("params", BAD_SEARCHES, ids=lambda p: "-".join(p))
def test_bad_search_parameters_are_422_problems(stack: Stack, params: dict[str, str]) -> None:
    body = assert_problem(stack.api.get("/events", params=params), 422)
    assert body["errors"]


def test_a_huge_query_string_is_refused_without_a_crash(stack: Stack) -> None:
    response = stack.api.get("/events", params={"q": "concert " * 2000})
    assert response.status_code in (414, 422, 431), response.status_code
    assert stack.api.get("/events").status_code == 200


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "   "}, {"q": "a" * 101}, {"q": "x", "limit": "50"}]
)
def test_bad_suggest_parameters_are_422_problems(stack: Stack, params: dict[str, str]) -> None:
    assert_problem(stack.api.get("/suggest", params=params), 422)


def test_odd_but_valid_text_is_just_searched(stack: Stack) -> None:
    for q in ["%", "_", "\\", "'; DROP TABLE search_documents; --", "a & b | !c", "(((", "東京"]:
        assert stack.api.get("/events", params={"q": q}).status_code == 200, q
        assert stack.api.get("/suggest", params={"q": q}).status_code == 200, q
