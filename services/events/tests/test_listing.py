import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ticketing_devkit.pytest_plugin import assert_problem, bearer


@pytest.fixture(scope="module")
def town(make, organizer) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A city of its own (other tests' events live elsewhere) with 7 published events, some
    sharing a start time, plus a draft and a cancelled event that must never be listed."""
    token = organizer[1]
    city = f"Town-{uuid.uuid4().hex[:8]}"
    venue = make.venue(token, city=city)
    base = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    starts = [base + timedelta(days=d) for d in (3, 1, 2, 2, 2, 5, 4)]
    published = [
        make.published(
            token,
            venue,
            title=f"Show {n}",
            category="comedy" if n % 2 else "concert",
            starts_at=at.isoformat(),
            ends_at=None,
        )
        for n, at in enumerate(starts)
    ]
    make.event(token, venue, title="Draft", starts_at=base.isoformat(), ends_at=None)
    cancelled = make.published(token, venue, title="Off", starts_at=base.isoformat(), ends_at=None)
    make.api.post(f"/events/{cancelled['event_id']}/cancel", headers=bearer(token))
    return {"city": city, "base": base, "events": published}


def walk(api: httpx.Client, **params: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        response = api.get("/events", params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def test_pages_cover_every_published_event_once_in_start_order(  # type: ignore[no-untyped-def]
    api: httpx.Client, town
) -> None:
    pages = walk(api, city=town["city"], limit=2)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    listed = [e for page in pages for e in page]
    expected = sorted(town["events"], key=lambda e: (e["starts_at"], e["event_id"]))
    assert [e["event_id"] for e in listed] == [e["event_id"] for e in expected]
    assert all(e["status"] == "on_sale" for e in listed)
    assert walk(api, city=town["city"].upper(), limit=100)[0] == listed  # city is case-blind


def test_filters_combine(api: httpx.Client, town) -> None:  # type: ignore[no-untyped-def]
    base: datetime = town["base"]
    comedy = [e for page in walk(api, city=town["city"], category="Comedy") for e in page]
    assert {e["title"] for e in comedy} == {"Show 1", "Show 3", "Show 5"}
    window = [
        e
        for page in walk(
            api,
            city=town["city"],
            starts_after=(base + timedelta(days=2)).isoformat(),
            starts_before=(base + timedelta(days=4)).isoformat(),
            limit=1,
        )
        for e in page
    ]
    assert sorted(e["title"] for e in window) == ["Show 0", "Show 2", "Show 3", "Show 4"]
    assert walk(api, city=town["city"], category="opera") == [[]]


def test_an_empty_last_page_is_never_served(api: httpx.Client, town) -> None:  # type: ignore[no-untyped-def]
    pages = walk(api, city=town["city"], limit=7)
    assert [len(p) for p in pages] == [7]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4Il0"},  # base64 of ["x"]: well-formed, but not an event position
        {"cursor": "WyIyMDMwLTAxLTAxIiwiYSJd"},  # ["2030-01-01","a"]: no time zone
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"starts_after": "tomorrow"},
        {"starts_before": "2030-01-01T00:00:00"},
    ],
)
def test_bad_listing_parameters_are_422(api: httpx.Client, params: dict[str, Any]) -> None:
    assert_problem(api.get("/events", params=params), 422)
