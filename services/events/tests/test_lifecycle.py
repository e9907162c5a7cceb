import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ticketing_common.errors import PeerUnavailable
from ticketing_common.http_client import ServiceClient
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.pytest_plugin import assert_problem, bearer
from ticketing_events.clients import InventoryClient

EVENT_FIELDS = {
    "venue_id",
    "title",
    "description",
    "category",
    "starts_at",
    "ends_at",
    "price_tiers",
    "section_tiers",
    "event_id",
    "organizer_id",
    "status",
    "city",
    "created_at",
}


def availability(inventory: ServiceProcess, event_id: str) -> httpx.Response:
    return httpx.get(f"{inventory.url}/api/v1/inventory/events/{event_id}/availability")


def test_an_organizer_drafts_publishes_and_cancels(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, inventory: ServiceProcess, event_body
) -> None:
    user_id, token = organizer
    venue = make.venue(token)
    created = api.post("/events", json=event_body(venue["venue_id"]), headers=bearer(token))
    assert created.status_code == 201, created.text
    event = created.json()
    assert set(event) >= EVENT_FIELDS
    assert event["status"] == "draft"
    assert event["organizer_id"] == user_id
    assert event["city"] == "Testville"
    assert event["section_tiers"] == {"ST": "front", "BAL": "back", "PIT": "standing"}
    event_id = event["event_id"]
    assert availability(inventory, event_id).status_code == 404  # a draft sells nothing

    published = api.post(f"/events/{event_id}/publish", headers=bearer(token))
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "on_sale"
    sections = {s["section_id"]: s for s in availability(inventory, event_id).json()["sections"]}
    assert {k: v["capacity"] for k, v in sections.items()} == {"ST": 7, "BAL": 2, "PIT": 50}

    again = api.post(f"/events/{event_id}/publish", headers=bearer(token))
    assert again.status_code == 200
    assert again.json() == published.json()

    cancelled = api.post(f"/events/{event_id}/cancel", headers=bearer(token))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert availability(inventory, event_id).json()["status"] == "closed"
    assert api.post(f"/events/{event_id}/cancel", headers=bearer(token)).json() == cancelled.json()
    assert_problem(api.post(f"/events/{event_id}/publish", headers=bearer(token)), 409)
    assert api.get(f"/events/{event_id}").json()["status"] == "cancelled"  # public, not hidden


def test_customers_may_not_create_events(
    api: httpx.Client, make, organizer, customer, event_body
) -> None:  # type: ignore[no-untyped-def]
    venue = make.venue(organizer[1])
    body = event_body(venue["venue_id"])
    assert_problem(api.post("/events", json=body, headers=bearer(customer[1])), 403)
    assert_problem(api.post("/events", json=body), 401)


def test_drafts_are_invisible_to_everyone_but_owner_and_admin(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, other_organizer, customer, admin
) -> None:
    event = make.event(organizer[1])
    path = f"/events/{event['event_id']}"
    assert api.get(path, headers=bearer(organizer[1])).status_code == 200
    assert api.get(path, headers=bearer(admin)).status_code == 200
    for headers in ({}, bearer(customer[1]), bearer(other_organizer[1])):
        assert_problem(api.get(path, headers=headers), 404)
        assert_problem(api.get(f"{path}/seatmap", headers=headers), 404)
    # A draft is as unknown to another organizer as an id that never existed.
    for action in ("publish", "cancel"):
        assert_problem(api.post(f"{path}/{action}", headers=bearer(other_organizer[1])), 404)
    assert_problem(api.patch(path, json={"title": "Mine"}, headers=bearer(other_organizer[1])), 404)
    assert api.get(path, headers=bearer(organizer[1])).json()["status"] == "draft"


def test_organizers_cannot_touch_each_others_published_events(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, other_organizer, customer
) -> None:
    event = make.published(organizer[1])
    path = f"/events/{event['event_id']}"
    assert_problem(api.post(f"{path}/cancel", headers=bearer(other_organizer[1])), 403)
    assert_problem(api.post(f"{path}/publish", headers=bearer(other_organizer[1])), 403)
    assert_problem(api.patch(path, json={"title": "x"}, headers=bearer(other_organizer[1])), 403)
    assert_problem(api.post(f"{path}/cancel", headers=bearer(customer[1])), 403)
    assert api.get(path).json()["status"] == "on_sale"


def test_admins_may_manage_any_event(api: httpx.Client, make, organizer, admin) -> None:  # type: ignore[no-untyped-def]
    event = make.event(organizer[1])
    path = f"/events/{event['event_id']}"
    patched = api.patch(path, json={"title": "Renamed by admin"}, headers=bearer(admin))
    assert patched.status_code == 200, patched.text
    assert patched.json()["organizer_id"] == organizer[0]  # still the organizer's event
    assert api.post(f"{path}/publish", headers=bearer(admin)).json()["status"] == "on_sale"
    assert api.post(f"{path}/cancel", headers=bearer(admin)).json()["status"] == "cancelled"


def test_organizers_may_use_a_venue_someone_else_registered(  # type: ignore[no-untyped-def]
    make, organizer, other_organizer
) -> None:
    venue = make.venue(organizer[1])
    assert make.published(other_organizer[1], venue)["venue_id"] == venue["venue_id"]


def test_patching_a_draft_revalidates_the_whole_event(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    token = organizer[1]
    event = make.event(token)
    path = f"/events/{event['event_id']}"
    patched = api.patch(
        path, json={"title": "  New title ", "category": "Comedy"}, headers=bearer(token)
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "New title"
    assert patched.json()["category"] == "comedy"
    assert patched.json()["price_tiers"] == event["price_tiers"]

    # Moving it to a venue with other sections needs matching section tiers, in the same PATCH.
    hall = make.venue(
        token,
        city="Elsewhere",
        sections=[{"section_id": "HALL", "name": "Hall", "kind": "standing", "capacity": 10}],
    )
    moved = api.patch(path, json={"venue_id": hall["venue_id"]}, headers=bearer(token))
    body = assert_problem(moved, 422)
    assert {e["type"] for e in body["errors"]} == {"unknown_section", "unpriced_section"}
    moved = api.patch(
        path,
        json={"venue_id": hall["venue_id"], "section_tiers": {"HALL": "standing"}},
        headers=bearer(token),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["city"] == "Elsewhere"

    assert_problem(api.patch(path, json={"title": None}, headers=bearer(token)), 422)
    assert_problem(api.patch(path, json={"price_tiers": []}, headers=bearer(token)), 422)
    assert_problem(api.patch(path, json={"status": "on_sale"}, headers=bearer(token)), 422)
    ends_early = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert_problem(api.patch(path, json={"ends_at": ends_early}, headers=bearer(token)), 422)
    assert api.get(path, headers=bearer(token)).json() == moved.json()  # nothing half-applied


def test_only_drafts_can_be_patched(api: httpx.Client, make, organizer) -> None:  # type: ignore[no-untyped-def]
    event = make.published(organizer[1])
    path = f"/events/{event['event_id']}"
    assert_problem(api.patch(path, json={"title": "Too late"}, headers=bearer(organizer[1])), 409)
    api.post(f"{path}/cancel", headers=bearer(organizer[1]))
    assert_problem(api.patch(path, json={"title": "Too late"}, headers=bearer(organizer[1])), 409)


def test_cancelling_a_draft_needs_no_inventory(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, inventory: ServiceProcess
) -> None:
    event = make.event(organizer[1])
    response = api.post(f"/events/{event['event_id']}/cancel", headers=bearer(organizer[1]))
    assert response.json()["status"] == "cancelled"
    assert availability(inventory, event["event_id"]).status_code == 404


def test_unknown_events_are_404(api: httpx.Client, organizer) -> None:  # type: ignore[no-untyped-def]
    for method, path in (
        ("GET", "/events/nope"),
        ("GET", "/events/nope/seatmap"),
        ("POST", "/events/nope/publish"),
        ("POST", "/events/nope/cancel"),
        ("PATCH", "/events/nope"),
    ):
        body = {"title": "x"} if method == "PATCH" else None
        response = api.request(method, path, json=body, headers=bearer(organizer[1]))
        assert_problem(response, 404)


def tiers(*entries: tuple[str, int, str]) -> list[dict[str, object]]:
    return [{"tier": t, "price_cents": p, "currency": c} for t, p, c in entries]


@pytest.mark.parametrize(
    ("case", "overrides", "message"),
    [
        ("section unpriced", {"section_tiers": {"ST": "front", "BAL": "back"}}, "missing: PIT"),
        (
            "unknown section",
            {"section_tiers": {"ST": "front", "BAL": "back", "PIT": "standing", "X": "back"}},
            "no sections X",
        ),
        (
            "undefined tier",
            {"section_tiers": {"ST": "front", "BAL": "back", "PIT": "vip"}},
            "undefined price tiers: vip",
        ),
        ("not a currency", {"price_tiers": tiers(("front", 1, "EURO"))}, "ISO 4217"),
        ("lower-case currency", {"price_tiers": tiers(("front", 1, "gbp"))}, "ISO 4217"),
        ("made-up currency", {"price_tiers": tiers(("front", 1, "ABC"))}, "ISO 4217"),
        (
            "two currencies",
            {"price_tiers": tiers(("front", 1, "GBP"), ("back", 1, "EUR"))},
            "one currency",
        ),
        ("negative price", {"price_tiers": tiers(("front", -1, "GBP"))}, "greater than or equal"),
        ("price as text", {"price_tiers": tiers(("front", "10", "GBP"))}, "integer"),  # type: ignore[arg-type]
        ("price as float", {"price_tiers": tiers(("front", 10.5, "GBP"))}, "integer"),  # type: ignore[arg-type]
        (
            "repeated tier",
            {"price_tiers": tiers(("front", 1, "GBP"), ("front", 2, "GBP"))},
            "unique",
        ),
        ("in the past", {"starts_at": "2020-01-01T20:00:00Z", "ends_at": None}, "future"),
        ("no time zone", {"starts_at": "2030-01-01T20:00:00", "ends_at": None}, "timezone"),
        ("not a date", {"starts_at": "next friday"}, "datetime"),
        ("ends first", {"ends_at": "2020-01-01T00:00:00Z"}, "after starts_at"),
        ("unknown venue", {"venue_id": "nowhere"}, "no venue"),
        ("blank title", {"title": ""}, "at least 1"),
        ("huge title", {"title": "t" * 201}, "at most 200"),
        ("wrong type", {"section_tiers": ["ST"]}, "dictionary"),
    ],
)
def test_invalid_events_are_422_and_say_why(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, case: str, overrides: dict, message: str, event_body
) -> None:
    venue = make.venue(organizer[1])
    response = api.post(
        "/events", json=event_body(venue["venue_id"], **overrides), headers=bearer(organizer[1])
    )
    assert_problem(response, 422)
    assert message in response.text, (case, response.text)


def test_publishing_an_event_that_has_started_is_refused(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    event = make.event(organizer[1], starts_at=soon.isoformat(), ends_at=None)
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    response = api.post(f"/events/{event['event_id']}/publish", headers=bearer(organizer[1]))
    assert_problem(response, 409)
    assert (
        api.get(f"/events/{event['event_id']}", headers=bearer(organizer[1])).json()["status"]
        == "draft"
    )


def test_internal_routes_need_the_service_credential(
    events: ServiceProcess, service_token: dict[str, str]
) -> None:
    assert_problem(httpx.get(f"{events.url}/internal/events/x"), 401)
    assert_problem(
        httpx.get(f"{events.url}/internal/events/x", headers={"X-Service-Token": "guess"}), 401
    )
    assert_problem(httpx.get(f"{events.url}/internal/events/x", headers=service_token), 404)


async def test_closing_an_event_inventory_never_had_counts_as_closed(
    inventory: ServiceProcess,
) -> None:
    client = ServiceClient("dev-service-token-not-for-production")
    await client.start()
    try:
        seats = InventoryClient(client, inventory.url, layout_timeout_s=5, timeout_s=5)
        await seats.close("never-published")  # 404 there: nothing to stop selling, no error
        # Asked only for published events: inventory without their state cannot answer (503).
        with pytest.raises(PeerUnavailable):
            await seats.availability_bits("never-published")
    finally:
        await client.stop()


def test_malformed_and_oversized_bodies_are_refused_without_changes(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    event = make.event(organizer[1])
    path = f"/events/{event['event_id']}"
    headers = bearer(organizer[1]) | {"Content-Type": "application/json"}
    assert_problem(api.patch(path, content=b'{"title": ', headers=headers), 400)
    assert_problem(api.patch(path, content=b'"just a string"', headers=headers), 422)
    assert_problem(api.patch(path, json={"title": 42}, headers=headers), 422)
    assert_problem(api.post("/events", content=b"\xff\xfe", headers=headers), 400)
    huge = b'{"description": "' + b"x" * 2_000_000 + b'"}'
    assert_problem(api.patch(path, content=huge, headers=headers), 413)
    assert api.get(path, headers=bearer(organizer[1])).json() == event
