"""An event's virtual waiting room settings: off until its organizer (or an admin) turns it on;
public to read; what the gateway enforces comes from the internal list."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ticketing_devkit.pytest_plugin import assert_problem, bearer

DEFAULTS = {
    "enabled": False,
    "opens_at": None,
    "admission_per_minute": 600,
    "max_shoppers": 2000,
    "shopping_minutes": 10,
}


def room_body(**overrides: Any) -> dict[str, Any]:
    opens = datetime.now(UTC) + timedelta(hours=1)
    return {
        "enabled": True,
        "opens_at": opens.isoformat(),
        "admission_per_minute": 120,
        "max_shoppers": 50,
        "shopping_minutes": 8,
    } | overrides


def on_list(internal: httpx.Client) -> dict[str, dict[str, Any]]:
    response = internal.get("/waiting-rooms")
    assert response.status_code == 200, response.text
    return {room["event_id"]: room for room in response.json()["items"]}


def test_a_room_is_off_until_configured_and_anyone_may_read_it(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    event = make.published(organizer[1])
    response = api.get(f"/events/{event['event_id']}/waiting-room")
    assert response.status_code == 200, response.text
    assert response.json() == {"event_id": event["event_id"], **DEFAULTS}
    assert response.headers["cache-control"].startswith("public")


def test_the_organizer_turns_it_on_and_the_gateway_list_has_it(  # type: ignore[no-untyped-def]
    api: httpx.Client, internal: httpx.Client, make, organizer
) -> None:
    event = make.published(organizer[1])
    path = f"/events/{event['event_id']}/waiting-room"
    body = room_body()
    saved = api.put(path, json=body, headers=bearer(organizer[1]))
    assert saved.status_code == 200, saved.text
    room = saved.json()
    assert room["event_id"] == event["event_id"]
    assert room["enabled"] is True
    assert datetime.fromisoformat(room["opens_at"]) == datetime.fromisoformat(body["opens_at"])
    assert (room["admission_per_minute"], room["max_shoppers"], room["shopping_minutes"]) == (
        120,
        50,
        8,
    )
    assert api.get(path).json() == room  # this instance's own write, read at once
    assert on_list(internal)[event["event_id"]] == room

    off = api.put(path, json=room_body(enabled=False), headers=bearer(organizer[1]))
    assert off.status_code == 200, off.text
    assert off.json()["enabled"] is False
    assert event["event_id"] not in on_list(internal)


def test_an_admin_may_configure_any_event(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, admin
) -> None:
    event = make.published(organizer[1])
    saved = api.put(
        f"/events/{event['event_id']}/waiting-room", json=room_body(), headers=bearer(admin)
    )
    assert saved.status_code == 200, saved.text


def test_only_the_owner_or_an_admin_configures_it(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, other_organizer, customer
) -> None:
    event = make.published(organizer[1])
    path = f"/events/{event['event_id']}/waiting-room"
    assert_problem(api.put(path, json=room_body(), headers=bearer(other_organizer[1])), 403)
    assert_problem(api.put(path, json=room_body(), headers=bearer(customer[1])), 403)
    assert_problem(api.put(path, json=room_body()), 401)
    assert api.get(path).json()["enabled"] is False


def test_unknown_events_and_strangers_drafts_are_404(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, other_organizer
) -> None:
    assert_problem(api.get("/events/no-such-event/waiting-room"), 404)
    unknown = "/events/no-such-event/waiting-room"
    assert_problem(api.put(unknown, json=room_body(), headers=bearer(organizer[1])), 404)
    draft = make.event(organizer[1])
    path = f"/events/{draft['event_id']}/waiting-room"
    assert_problem(api.get(path), 404)
    assert_problem(api.get(path, headers=bearer(other_organizer[1])), 404)
    mine = api.get(path, headers=bearer(organizer[1]))
    assert mine.status_code == 200
    assert mine.headers["cache-control"].startswith("private")
    # A draft's room may be prepared before it goes on sale.
    assert api.put(path, json=room_body(), headers=bearer(organizer[1])).status_code == 200


def test_a_room_that_is_on_needs_its_opening(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    event = make.published(organizer[1])
    path = f"/events/{event['event_id']}/waiting-room"
    problem = assert_problem(
        api.put(path, json=room_body(opens_at=None), headers=bearer(organizer[1])), 422
    )
    assert [error["loc"] for error in problem["errors"]] == [["body", "opens_at"]]
    assert api.get(path).json()["enabled"] is False
    # Off, it needs none.
    off = api.put(path, json={"enabled": False}, headers=bearer(organizer[1]))
    assert off.status_code == 200, off.text
    assert off.json() == {"event_id": event["event_id"], **DEFAULTS}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("admission_per_minute", 0),
        ("admission_per_minute", 100_001),
        ("max_shoppers", 0),
        ("max_shoppers", 1_000_001),
        ("shopping_minutes", 0),
        ("shopping_minutes", 121),
        ("shopping_minutes", "10"),
        ("enabled", "yes"),
        ("opens_at", "tomorrow"),
        ("opens_at", "2030-01-01T10:00:00"),  # no time zone
    ],
)
def test_out_of_range_settings_are_422_naming_the_field(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, field: str, value: Any
) -> None:
    event = make.published(organizer[1])
    problem = assert_problem(
        api.put(
            f"/events/{event['event_id']}/waiting-room",
            json=room_body(**{field: value}),
            headers=bearer(organizer[1]),
        ),
        422,
    )
    assert ["body", field] in [error["loc"][:2] for error in problem["errors"]]


def test_a_cancelled_events_room_is_not_enforced_and_cannot_change(  # type: ignore[no-untyped-def]
    api: httpx.Client, internal: httpx.Client, make, organizer
) -> None:
    event = make.published(organizer[1])
    path = f"/events/{event['event_id']}/waiting-room"
    assert api.put(path, json=room_body(), headers=bearer(organizer[1])).status_code == 200
    assert event["event_id"] in on_list(internal)
    cancelled = api.post(f"/events/{event['event_id']}/cancel", headers=bearer(organizer[1]))
    assert cancelled.status_code == 200, cancelled.text
    assert event["event_id"] not in on_list(internal)
    assert_problem(api.put(path, json=room_body(), headers=bearer(organizer[1])), 409)


def test_the_internal_list_needs_the_service_credential(events) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(f"{events.url}/internal/waiting-rooms").status_code == 401
