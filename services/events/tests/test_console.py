"""What the organizer console reads and changes: the caller's events in every status, their
venues, and editing a venue until the first event is put on it."""

from typing import Any

import httpx
import pytest
from ticketing_devkit.pytest_plugin import assert_problem, bearer


def managed(api: httpx.Client, token: str, **params: Any) -> httpx.Response:
    return api.get("/events/managed", params=params, headers=bearer(token))


def all_pages(api: httpx.Client, path: str, token: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = api.get(
            path, params=params | ({"cursor": cursor} if cursor else {}), headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_an_organizer_sees_their_drafts_published_and_cancelled_events_newest_first(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, users
) -> None:
    organizer_id, token = users.new("organizer")
    _, other = users.new("organizer")
    venue = make.venue(token)
    draft = make.event(token, venue, title="Draft night")
    published = make.published(token, venue, title="On sale night")
    cancelled = make.event(token, venue, title="Called off")
    assert api.post(f"/events/{cancelled['event_id']}/cancel", headers=bearer(token)).is_success
    make.published(other, title="Someone else's")

    response = managed(api, token)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    items = response.json()["items"]
    assert [e["event_id"] for e in items] == [
        cancelled["event_id"],
        published["event_id"],
        draft["event_id"],
    ]
    assert [e["status"] for e in items] == ["cancelled", "on_sale", "draft"]
    assert {e["organizer_id"] for e in items} == {organizer_id}
    assert items[2]["price_tiers"] == draft["price_tiers"]
    assert response.json()["next_cursor"] is None

    drafts = managed(api, token, status="draft").json()["items"]
    assert [e["event_id"] for e in drafts] == [draft["event_id"]]
    found = managed(api, token, q="SALE n").json()["items"]
    assert [e["event_id"] for e in found] == [published["event_id"]]
    assert managed(api, token, q="%").json()["items"] == []  # wildcards are literal


def test_pages_cover_every_managed_event_once(api: httpx.Client, make, users) -> None:  # type: ignore[no-untyped-def]
    _, token = users.new("organizer")
    venue = make.venue(token)
    made = [make.event(token, venue, title=f"Event {n}")["event_id"] for n in range(5)]
    seen = all_pages(api, "/events/managed", token, limit=2)
    assert [e["event_id"] for e in seen] == made[::-1]


def test_an_admin_sees_every_organizers_events_or_one_organizers(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, users, admin
) -> None:
    first_id, first = users.new("organizer")
    _, second = users.new("organizer")
    mine = make.event(first, title="First's draft")
    theirs = make.event(second, title="Second's draft")
    everything = {e["event_id"] for e in all_pages(api, "/events/managed", admin, limit=100)}
    assert {mine["event_id"], theirs["event_id"]} <= everything
    only_first = all_pages(api, "/events/managed", admin, organizer_id=first_id)
    assert [e["event_id"] for e in only_first] == [mine["event_id"]]


def test_the_managed_list_is_for_organizers_and_admins_only(  # type: ignore[no-untyped-def]
    api: httpx.Client, organizer, other_organizer, customer
) -> None:
    assert_problem(api.get("/events/managed"), 401)
    assert_problem(managed(api, customer[1]), 403)
    # An organizer cannot ask for another organizer's events.
    assert_problem(managed(api, organizer[1], organizer_id=other_organizer[0]), 403)
    assert managed(api, organizer[1], organizer_id=organizer[0]).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"status": "sold_out"},
        {"limit": 0},
        {"limit": 101},
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4Il0"},  # a cursor of the wrong shape
        {"q": "x" * 201},
    ],
)
def test_bad_managed_parameters_are_422(  # type: ignore[no-untyped-def]
    api: httpx.Client, organizer, params: dict[str, Any]
) -> None:
    assert_problem(managed(api, organizer[1], **params), 422)


def test_an_organizer_lists_their_venues_and_an_admin_every_venue(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, users, admin
) -> None:
    organizer_id, token = users.new("organizer")
    _, other = users.new("organizer")
    first = make.venue(token, name="First hall")
    second = make.venue(token, name="Second hall")
    elsewhere = make.venue(other, name="Not mine")
    mine = all_pages(api, "/venues", token, limit=1)
    assert [v["venue_id"] for v in mine] == [second["venue_id"], first["venue_id"]]
    assert mine[0]["sections"][0]["capacity"] == 7
    assert mine[0]["in_use"] is False
    every = {v["venue_id"] for v in all_pages(api, "/venues", admin, limit=100)}
    assert {first["venue_id"], elsewhere["venue_id"]} <= every
    theirs = all_pages(api, "/venues", admin, organizer_id=organizer_id)
    assert {v["venue_id"] for v in theirs} == {first["venue_id"], second["venue_id"]}


def test_venue_listing_needs_an_organizer(  # type: ignore[no-untyped-def]
    api: httpx.Client, customer, organizer, other_organizer
) -> None:
    assert_problem(api.get("/venues"), 401)
    assert_problem(api.get("/venues", headers=bearer(customer[1])), 403)
    assert_problem(
        api.get(
            "/venues", params={"organizer_id": other_organizer[0]}, headers=bearer(organizer[1])
        ),
        403,
    )


def test_an_unused_venue_can_be_edited_and_new_events_use_the_new_sections(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, venue_body, event_body
) -> None:
    token = organizer[1]
    venue = make.venue(token)
    changed = venue_body(
        name="Renamed Hall",
        sections=[
            {
                "section_id": "MAIN",
                "name": "Main floor",
                "kind": "seated",
                "rows": [{"label": "A", "seats": 6}],
            },
            {"section_id": "PIT", "name": "Pit", "kind": "standing", "capacity": 10},
        ],
    )
    response = api.put(f"/venues/{venue['venue_id']}", json=changed, headers=bearer(token))
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["name"] == "Renamed Hall"
    assert edited["capacity"] == 16
    assert [s["section_id"] for s in edited["sections"]] == ["MAIN", "PIT"]
    assert api.get(f"/venues/{venue['venue_id']}").json() == edited

    # An event priced for the old sections no longer fits; one for the new ones does.
    old = api.post("/events", json=event_body(venue["venue_id"]), headers=bearer(token))
    assert_problem(old, 422)
    assert api.get(f"/venues/{venue['venue_id']}").json()["in_use"] is False  # rolled back
    body = event_body(venue["venue_id"], section_tiers={"MAIN": "front", "PIT": "standing"})
    assert api.post("/events", json=body, headers=bearer(token)).status_code == 201
    assert api.get(f"/venues/{venue['venue_id']}").json()["in_use"] is True


def test_a_venue_with_an_event_can_no_longer_change(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, venue_body
) -> None:
    token = organizer[1]
    venue = make.venue(token)
    event = make.event(token, venue)
    # Even once its only event is cancelled: that event's seat map still reads the venue.
    assert api.post(f"/events/{event['event_id']}/cancel", headers=bearer(token)).is_success
    response = api.put(
        f"/venues/{venue['venue_id']}", json=venue_body(name="Too late"), headers=bearer(token)
    )
    assert_problem(response, 409, type="https://ticketing-pro.com/problems/venue-in-use")
    assert api.get(f"/venues/{venue['venue_id']}").json()["name"] == venue["name"]


def test_only_the_venues_organizer_or_an_admin_edits_it(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, other_organizer, customer, admin, venue_body
) -> None:
    venue = make.venue(organizer[1])
    path = f"/venues/{venue['venue_id']}"
    assert_problem(api.put(path, json=venue_body()), 401)
    assert_problem(api.put(path, json=venue_body(), headers=bearer(customer[1])), 403)
    assert_problem(api.put(path, json=venue_body(), headers=bearer(other_organizer[1])), 403)
    assert_problem(api.put("/venues/no-such", json=venue_body(), headers=bearer(admin)), 404)
    response = api.put(path, json=venue_body(name="Admin's name"), headers=bearer(admin))
    assert response.status_code == 200, response.text
    assert response.json()["organizer_id"] == organizer[0]  # still the organizer's venue


def test_an_invalid_edit_says_which_field_and_changes_nothing(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, venue_body
) -> None:
    venue = make.venue(organizer[1])
    rows = [{"label": "A", "seats": 0}]
    bad = venue_body(sections=[{"section_id": "S", "name": "S", "kind": "seated", "rows": rows}])
    response = api.put(f"/venues/{venue['venue_id']}", json=bad, headers=bearer(organizer[1]))
    body = assert_problem(response, 422)
    where = ["body", "sections", 0, "seated", "rows", 0, "seats"]
    assert where in [e["loc"] for e in body["errors"]]
    assert api.get(f"/venues/{venue['venue_id']}").json() == venue


def test_door_staff_see_their_organizers_published_events_only(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, users, admin
) -> None:
    boss_id, boss = users.new("organizer")
    _, rival = users.new("organizer")
    _, staff = users.new("staff", organizer_id=boss_id)

    venue = make.venue(boss)
    draft = make.event(boss, venue, title="Not yet")
    on_sale = make.published(boss, venue, title="Tonight")
    make.published(rival, title="Elsewhere")
    seen = [e["event_id"] for e in all_pages(api, "/events/managed", staff)]
    assert seen == [on_sale["event_id"]]
    assert draft["event_id"] not in seen
    assert_problem(managed(api, staff, status="draft"), 403)
    assert_problem(managed(api, staff, organizer_id=boss_id + "x"), 403)
    # Staff are not organizers: nothing else of the console is theirs.
    assert_problem(api.get("/venues", headers=bearer(staff)), 403)
    assert_problem(api.post(f"/events/{on_sale['event_id']}/cancel", headers=bearer(staff)), 403)
