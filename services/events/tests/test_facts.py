"""Every change leaves its fact on the bus (via the outbox and the relay in the service)."""

from concurrent.futures import ThreadPoolExecutor

import httpx
from ticketing_common.facts import EventCancelled, EventPublished, EventUpdated
from ticketing_devkit.pytest_plugin import bearer


def test_publish_update_and_cancel_reach_the_stream_as_typed_facts(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, facts, eventually
) -> None:
    token = organizer[1]
    venue = make.venue(token, name="Fact Hall", country="United Kingdom")
    event = make.event(token, venue)
    event_id = event["event_id"]
    api.patch(f"/events/{event_id}", json={"title": "Fact Night"}, headers=bearer(token))
    api.post(f"/events/{event_id}/publish", headers=bearer(token))
    api.post(f"/events/{event_id}/cancel", headers=bearer(token))

    envelopes = eventually(lambda: len(facts(event_id)) >= 3 and facts(event_id))
    assert [e.type for e in envelopes] == ["event.updated", "event.published", "event.cancelled"]
    assert all(e.source == "events" for e in envelopes)
    updated, published, cancelled = (e.fact() for e in envelopes)
    assert isinstance(updated, EventUpdated)
    assert (updated.title, updated.status) == ("Fact Night", "draft")
    assert isinstance(published, EventPublished)
    assert published.status == "on_sale"
    assert (published.venue_name, published.city, published.country) == (
        "Fact Hall",
        "Testville",
        "United Kingdom",
    )
    assert (published.currency, published.min_price_cents) == ("GBP", 1500)
    assert published.starts_at.isoformat() == event["starts_at"].replace("Z", "+00:00")
    assert cancelled == EventCancelled(event_id=event_id, organizer_id=organizer[0])
    assert envelopes[1].trace.request_id  # the request that published it, for tracing


def test_no_fact_for_what_did_not_change(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, facts, eventually
) -> None:
    token = organizer[1]
    event = make.published(token)
    event_id = event["event_id"]
    api.post(f"/events/{event_id}/publish", headers=bearer(token))  # already on sale
    api.patch(f"/events/{event_id}", json={"title": "x"}, headers=bearer(token))  # refused: 409
    draft = make.event(token)
    api.patch(f"/events/{draft['event_id']}", json={"title": draft["title"]}, headers=bearer(token))
    marker = make.published(token)  # facts are relayed in order: once this one is out...
    eventually(lambda: facts(marker["event_id"]))
    assert [e.type for e in facts(event_id)] == ["event.published"]
    assert facts(draft["event_id"]) == []  # ...the others would be too


def test_concurrent_publishes_put_one_event_on_sale_once(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, facts, eventually
) -> None:
    token = organizer[1]
    event = make.event(token)
    url = f"{str(api.base_url).rstrip('/')}/events/{event['event_id']}/publish"

    def publish(_: int) -> httpx.Response:
        return httpx.post(url, headers=bearer(token), timeout=30)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(publish, range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert {r.json()["status"] for r in responses} == {"on_sale"}
    assert len({r.json()["published_at"] for r in responses}) == 1
    marker = make.published(token)
    eventually(lambda: facts(marker["event_id"]))
    assert [e.type for e in facts(event["event_id"])] == ["event.published"]
