"""The internal API booking and search use (contracts in the brief)."""

import httpx
import pytest
from ticketing_common.contracts import EventSummary
from ticketing_common.facts import EventPublished
from ticketing_common.pricing import Pricing, Unpriced
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


def test_booking_prices_holds_from_the_internal_event(internal: httpx.Client, on_sale) -> None:  # type: ignore[no-untyped-def]
    pricing = Pricing.of(
        EventSummary.model_validate(internal.get(f"/events/{on_sale['event_id']}").json())
    )
    assert pricing.currency == "GBP"
    assert pricing.amount_cents(["ST-B-4", "BAL-1-2"], None, 2) == 5000 + 2500
    assert pricing.amount_cents([], "PIT", 3) == 3 * 1500
    with pytest.raises(Unpriced):
        pricing.amount_cents(["NOPE-1-1"], None, 1)


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
