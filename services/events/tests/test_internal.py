"""The internal API booking and search use (contracts in the brief)."""

import httpx
import pytest
from ticketing_common.facts import EventPublished
from ticketing_devkit.pytest_plugin import assert_problem


@pytest.fixture(scope="module")
def on_sale(make, organizer) -> dict:  # type: ignore[no-untyped-def]
    return make.published(organizer[1], title="Internal Night")


def test_booking_reads_an_event_with_its_venue_and_prices(  # type: ignore[no-untyped-def]
    internal: httpx.Client, api: httpx.Client, on_sale
) -> None:
    response = internal.get(f"/events/{on_sale['event_id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    public = api.get(f"/events/{on_sale['event_id']}").json()
    assert body == public | {"venue_name": "Test Hall", "currency": "GBP", "min_price_cents": 1500}


def test_seats_are_quoted_at_their_section_tier(internal: httpx.Client, on_sale) -> None:  # type: ignore[no-untyped-def]
    path = f"/events/{on_sale['event_id']}/quote"
    response = internal.post(
        path, json={"seat_ids": ["ST-B-4", "BAL-1-2"], "section_id": None, "quantity": 2}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "event_id": on_sale["event_id"],
        "event_status": "on_sale",
        "amount_cents": 7500,
        "currency": "GBP",
        "lines": [
            {"seat_id": "ST-B-4", "section_id": "ST", "tier": "front", "price_cents": 5000},
            {"seat_id": "BAL-1-2", "section_id": "BAL", "tier": "back", "price_cents": 2500},
        ],
    }
    standing = internal.post(path, json={"seat_ids": [], "section_id": "PIT", "quantity": 3})
    assert standing.status_code == 200, standing.text
    assert standing.json()["amount_cents"] == 4500
    assert [line["section_id"] for line in standing.json()["lines"]] == ["PIT"] * 3


@pytest.mark.parametrize(
    "body",
    [
        {"seat_ids": ["ST-A-4"]},  # row A has 3 seats
        {"seat_ids": ["ST-C-1"]},  # no row C
        {"seat_ids": ["PIT-1-1"]},  # standing has no seats
        {"seat_ids": ["ST-A-01"]},  # not the canonical id
        {"seat_ids": ["ST-A-1", "ST-A-1"]},
        {"seat_ids": ["ST-A-1"], "quantity": 2},
        {"seat_ids": ["ST-A-1"], "section_id": "BAL"},
        {"section_id": "PIT"},
        {"section_id": "ST", "quantity": 1},
        {"section_id": "PIT", "quantity": 0},
        {"quantity": 1},
        {},
        {"seat_ids": "ST-A-1"},
    ],
)
def test_bad_quotes_are_422(internal: httpx.Client, on_sale, body: dict) -> None:  # type: ignore[no-untyped-def]
    assert_problem(internal.post(f"/events/{on_sale['event_id']}/quote", json=body), 422)


def test_quoting_an_unknown_event_is_404(internal: httpx.Client) -> None:
    assert_problem(internal.post("/events/nope/quote", json={"seat_ids": ["A-1-1"]}), 404)


def test_search_documents_page_through_every_published_event(  # type: ignore[no-untyped-def]
    internal: httpx.Client, api: httpx.Client, make, organizer, on_sale
) -> None:
    draft = make.event(organizer[1])
    documents, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = internal.get("/search-documents", params=params).json()
        assert len(page["items"]) <= 3
        documents += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [d["event_id"] for d in documents]
    assert len(ids) == len(set(ids))
    assert on_sale["event_id"] in ids
    assert draft["event_id"] not in ids
    assert {d["status"] for d in documents} == {"on_sale"}
    mine = next(d for d in documents if d["event_id"] == on_sale["event_id"])
    assert EventPublished.model_validate(mine).venue_name == "Test Hall"
    assert_problem(internal.get("/search-documents", params={"cursor": "%%%"}), 422)
    assert_problem(internal.get("/search-documents", params={"limit": 501}), 422)
