"""What searching does, over HTTP, with facts arriving from the bus. The same suite runs against
every backend (OpenSearch only when OPENSEARCH_URL is set; see conftest)."""

from datetime import UTC, datetime, timedelta
from typing import Any

Stack = Any  # the `stack` fixture (conftest): a running search service and its bus


def test_a_published_event_is_found_by_title_venue_and_city(stack: Stack) -> None:
    name, venue, city = stack.word(), f"{stack.word()} Hall", stack.word()
    fact = stack.event(title=f"{name} World Tour", venue_name=venue, city=city, category="concert")
    stack.publish(fact)
    stack.eventually(lambda: stack.search(q=name)["total"] == 1)

    found = stack.search(q=name)
    assert found["items"] == [
        {
            "event_id": fact.event_id,
            "title": f"{name} World Tour",
            "venue_name": venue,
            "city": city,
            "category": "concert",
            "starts_at": found["items"][0]["starts_at"],
            "min_price_cents": 5000,
            "currency": "EUR",
        }
    ]
    assert datetime.fromisoformat(found["items"][0]["starts_at"]) == fact.starts_at
    assert stack.titles(q=venue.split()[0]) == {fact.title}
    assert stack.titles(q=city) == {fact.title}
    # All the words must match, wherever they are in the event.
    assert stack.titles(q=f"{name} {city}") == {fact.title}
    assert stack.titles(q=f"{name} {stack.word()}") == set()


def test_typos_still_find_the_event(stack: Stack) -> None:
    name = stack.word(10)
    fact = stack.event(title=f"{name} Festival")
    stack.publish(fact)
    stack.eventually(lambda: stack.search(q=name)["total"] == 1)
    assert stack.titles(q=stack.typo(name)) == {fact.title}
    assert stack.titles(q=stack.typo(name).lower()) == {fact.title}


def test_filters_and_facets(stack: Stack) -> None:
    city_a, city_b = stack.word(), stack.word()
    cat_a, cat_b = f"cat{stack.word().lower()}", f"cat{stack.word().lower()}"
    soon = datetime.now(UTC) + timedelta(days=5)
    later = datetime.now(UTC) + timedelta(days=50)
    facts = [
        stack.event(city=city_a, category=cat_a, starts_at=soon, min_price_cents=2000),
        stack.event(city=city_a, category=cat_b, starts_at=later, min_price_cents=9000),
        stack.event(city=city_b, category=cat_a, starts_at=later, min_price_cents=4000),
    ]
    for fact in facts:
        stack.publish(fact)
    stack.eventually(lambda: stack.search(category=cat_a)["total"] == 2)
    stack.eventually(lambda: stack.search(category=cat_b)["total"] == 1)

    in_a = stack.search(city=city_a.lower())  # filters ignore case
    assert {item["event_id"] for item in in_a["items"]} == {facts[0].event_id, facts[1].event_id}
    assert in_a["total"] == 2
    assert in_a["facets"]["category"] == {cat_a: 1, cat_b: 1}

    # A facet counts under every filter but its own: the city facet still offers city_b.
    a_in_a = stack.search(city=city_a, category=cat_a)
    assert [item["event_id"] for item in a_in_a["items"]] == [facts[0].event_id]
    assert a_in_a["facets"]["city"] == {city_a: 1, city_b: 1}
    assert a_in_a["facets"]["category"] == {cat_a: 1, cat_b: 1}

    cheap = stack.search(category=cat_a, price_max_cents=3000)
    assert [item["event_id"] for item in cheap["items"]] == [facts[0].event_id]

    window = {"date_from": (soon - timedelta(days=1)).date().isoformat()}
    window["date_to"] = (soon + timedelta(days=1)).isoformat()
    early = stack.search(city=city_a, **window)
    assert [item["event_id"] for item in early["items"]] == [facts[0].event_id]
    # A day as date_to includes the whole day.
    same_day = stack.search(city=city_a, date_to=soon.date().isoformat())
    assert [item["event_id"] for item in same_day["items"]] == [facts[0].event_id]


def test_without_a_query_results_come_soonest_first_and_page_with_a_cursor(stack: Stack) -> None:
    city = stack.word()
    start = datetime.now(UTC) + timedelta(days=3)
    facts = [stack.event(city=city, starts_at=start + timedelta(hours=n)) for n in (4, 0, 3, 1, 2)]
    for fact in facts:
        stack.publish(fact)
    stack.eventually(lambda: stack.search(city=city)["total"] == 5)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"city": city, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = stack.search(**params)
        assert page["total"] == 5
        seen += [item["event_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    by_time = sorted(facts, key=lambda fact: fact.starts_at)
    assert seen == [fact.event_id for fact in by_time]


def test_past_events_are_not_found_unless_asked_for(stack: Stack) -> None:
    city = stack.word()
    past = stack.event(city=city, starts_at=datetime.now(UTC) - timedelta(days=2))
    upcoming = stack.event(city=city)
    stack.publish(past)
    stack.publish(upcoming)
    stack.eventually(lambda: stack.search(city=city)["total"] == 1)
    assert stack.titles(city=city) == {upcoming.title}
    last_week = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    assert stack.titles(city=city, date_from=last_week) == {past.title, upcoming.title}


def test_updates_replace_the_document_and_cancelled_events_leave(stack: Stack) -> None:
    old_name, new_name = stack.word(), stack.word()
    fact = stack.event(title=f"{old_name} Night")
    stack.publish(fact)
    stack.eventually(lambda: stack.search(q=old_name)["total"] == 1)

    stack.publish(stack.updated(fact, title=f"{new_name} Night"))
    stack.eventually(lambda: stack.search(q=new_name)["total"] == 1)
    assert stack.search(q=old_name)["total"] == 0

    stack.publish(stack.cancelled(fact))
    stack.eventually(lambda: stack.search(q=new_name)["total"] == 0)
    # Judged on this test's own title: another test's word may share the 5-letter prefix.
    assert f"{new_name} Night" not in stack.suggest(new_name[:5])


def test_late_facts_never_roll_an_event_back(stack: Stack) -> None:
    first, second, third = stack.word(), stack.word(), stack.word()
    fact = stack.event(title=f"{first} Show")
    t0 = datetime.now(UTC)
    stack.publish(fact, occurred_at=t0)
    stack.publish(
        stack.updated(fact, title=f"{second} Show"), occurred_at=t0 + timedelta(seconds=2)
    )
    stack.eventually(lambda: stack.search(q=second)["total"] == 1)

    # An update that happened before the one indexed arrives late (redelivery, reordering).
    stack.publish(stack.updated(fact, title=f"{third} Show"), occurred_at=t0 + timedelta(seconds=1))
    marker = stack.event(
        title=f"{stack.word()} Marker"
    )  # facts are handled in order: wait for this one
    stack.publish(marker)
    stack.eventually(lambda: stack.search(q=marker.title.split()[0])["total"] == 1)
    assert stack.search(q=third)["total"] == 0
    assert stack.search(q=second)["total"] == 1

    # A cancellation is final: an older update delivered after it does not resurrect the event.
    stack.publish(stack.cancelled(fact), occurred_at=t0 + timedelta(seconds=5))
    stack.eventually(lambda: stack.search(q=second)["total"] == 0)
    stack.publish(stack.updated(fact, title=f"{third} Show"), occurred_at=t0 + timedelta(seconds=3))
    marker = stack.event(title=f"{stack.word()} Marker")
    stack.publish(marker)
    stack.eventually(lambda: stack.search(q=marker.title.split()[0])["total"] == 1)
    assert stack.search(q=third)["total"] == 0


def test_drafts_are_not_listed(stack: Stack) -> None:
    name = stack.word()
    fact = stack.event(title=f"{name} Preview")
    stack.publish(stack.updated(fact, status="draft"))
    marker = stack.event(title=f"{stack.word()} Marker")
    stack.publish(marker)
    stack.eventually(lambda: stack.search(q=marker.title.split()[0])["total"] == 1)
    assert stack.search(q=name)["total"] == 0


def test_suggestions_complete_prefixes_and_forgive_typos(stack: Stack) -> None:
    name = stack.word(10)
    fact = stack.event(title=f"{name} Symphony Orchestra")
    twin = stack.event(title=f"{name} Symphony Orchestra")  # the same show on another date
    other = stack.event(title=f"{stack.word()} {name} Tribute")
    for each in (fact, twin, other):
        stack.publish(each)
    stack.eventually(lambda: stack.search(q=name)["total"] == 3)

    def ours(titles: list[str]) -> list[str]:
        # Other tests' made-up words share the index: a short prefix may also match one of
        # theirs by typo tolerance (seen: "Mofip" ~ "Bizitofip"), so judge this test's titles.
        return [title for title in titles if name in title]

    # A title that starts with what was typed comes first; each title once.
    assert ours(stack.suggest(name[:5])) == [fact.title, other.title]
    assert ours(stack.suggest(name[:6].lower())) == [fact.title, other.title]
    assert fact.title in stack.suggest(stack.typo(name))
    assert ours(stack.suggest(f"{name} Symph")) == [fact.title]
    assert stack.suggest(stack.word(12)) == []


def test_answers_carry_validators_that_change_with_the_results(stack: Stack) -> None:
    name = stack.word()
    first = stack.event(title=f"{name} Matinee")
    stack.publish(first)
    stack.eventually(lambda: stack.search(q=name)["total"] == 1)
    answer = stack.api.get("/events", params={"q": name})
    assert answer.headers["cache-control"] == "public, max-age=5"
    etag = answer.headers["etag"]
    same = stack.api.get("/events", params={"q": name}, headers={"If-None-Match": etag})
    assert (same.status_code, same.content) == (304, b"")
    suggested = stack.api.get("/suggest", params={"q": name})
    assert suggested.headers["cache-control"] == "public, max-age=5"
    revalidated = stack.api.get(
        "/suggest", params={"q": name}, headers={"If-None-Match": suggested.headers["etag"]}
    )
    assert revalidated.status_code == 304

    stack.publish(stack.event(title=f"{name} Evening"))
    stack.eventually(lambda: stack.search(q=name)["total"] == 2)
    changed = stack.api.get("/events", params={"q": name}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["total"] == 2
