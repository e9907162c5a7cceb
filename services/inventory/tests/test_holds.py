"""The public hold API over real HTTP: all or nothing, owners, limits, bad input."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ticketing_devkit.pytest_plugin import assert_problem

HOLDS = "/api/v1/inventory/events/{}/holds"


@pytest.fixture
def event(inventory: Any) -> str:
    return inventory.create_event(inventory.layout({"A": (4, 10), "B": (2, 10)}, {"GA": 5}))


def test_a_hold_takes_exactly_its_seats(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", seat_ids=["A-1-1", "A-1-2", "B-2-10"])
    assert set(hold) == {
        "hold_id",
        "event_id",
        "user_id",
        "seat_ids",
        "section_id",
        "quantity",
        "expires_at",
        "status",
    }
    assert hold["event_id"] == event
    assert hold["user_id"] == "ann"
    assert hold["seat_ids"] == ["A-1-1", "A-1-2", "B-2-10"]
    assert hold["section_id"] is None
    assert hold["quantity"] == 3
    assert hold["status"] == "held"
    expires = datetime.fromisoformat(hold["expires_at"])
    assert timedelta(seconds=590) < expires - datetime.now(UTC) <= timedelta(seconds=601)

    availability = inventory.availability(event, seats=True)
    inventory.assert_counts_add_up(availability)
    counts = {s["section_id"]: s for s in availability["sections"]}
    assert (counts["A"]["held"], counts["B"]["held"], counts["GA"]["held"]) == (2, 1, 0)
    assert (counts["A"]["available"], counts["A"]["capacity"]) == (38, 40)
    held = sorted(seat for seat, status in availability["seats"].items() if status == "held")
    assert held == ["A-1-1", "A-1-2", "B-2-10"]
    assert len(availability["seats"]) == 60


def test_a_conflict_holds_nothing_and_names_the_taken_seats(inventory: Any, event: str) -> None:
    inventory.held(event, "ann", seat_ids=["A-1-2", "A-1-3"])
    response = inventory.hold(event, "bob", seat_ids=["A-1-1", "A-1-2", "A-1-3", "A-1-4"])
    body = assert_problem(response, 409)
    assert sorted(body["unavailable"]) == ["A-1-2", "A-1-3"]
    seats = inventory.availability(event, seats=True)["seats"]
    assert seats["A-1-1"] == seats["A-1-4"] == "available"  # nothing of the refused hold stuck
    inventory.held(event, "bob", seat_ids=["A-1-1", "A-1-4"])


def test_the_owner_reads_a_hold_and_nobody_else_can(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", seat_ids=["A-2-1"])
    path = f"/api/v1/inventory/holds/{hold['hold_id']}"
    response = inventory.http.get(path, headers=inventory.auth("ann"))
    assert response.status_code == 200
    assert response.json() == hold
    assert_problem(inventory.http.get(path, headers=inventory.auth("eve")), 404)
    assert_problem(inventory.http.get(path), 401)
    assert_problem(inventory.http.delete(path, headers=inventory.auth("eve")), 404)
    assert inventory.availability(event, seats=True)["seats"]["A-2-1"] == "held"


def test_releasing_frees_the_seats_at_once(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", seat_ids=["A-3-1", "A-3-2"])
    assert inventory.release(hold["hold_id"], "ann").status_code == 204
    seats = inventory.availability(event, seats=True)["seats"]
    assert seats["A-3-1"] == seats["A-3-2"] == "available"
    assert inventory.section(event, "A")["held"] == 0
    assert inventory.release(hold["hold_id"], "ann").status_code == 204  # idempotent
    inventory.held(event, "bob", seat_ids=["A-3-1", "A-3-2"])
    owner_view = inventory.http.get(
        f"/api/v1/inventory/holds/{hold['hold_id']}", headers=inventory.auth("ann")
    )
    assert owner_view.json()["status"] == "released"


@pytest.mark.parametrize(
    "hold_id", ["nope", "x" * 22 + ".evt-unknown", "A" * 22 + ".{bad}", "a.b.c", "x" * 300]
)
def test_unknown_hold_ids_are_404(inventory: Any, hold_id: str) -> None:
    path = f"/api/v1/inventory/holds/{hold_id}"
    status = 422 if len(hold_id) > 200 else 404
    assert_problem(inventory.http.get(path, headers=inventory.auth("ann")), status)
    assert_problem(inventory.http.delete(path, headers=inventory.auth("ann")), status)


def test_standing_holds_take_places_and_never_go_below_zero(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", section_id="GA", quantity=3)
    assert (hold["section_id"], hold["quantity"], hold["seat_ids"]) == ("GA", 3, [])
    body = assert_problem(inventory.hold(event, "bob", section_id="GA", quantity=3), 409)
    assert body["unavailable"] == ["GA"]
    assert body["available"] == 2
    inventory.held(event, "bob", section_id="GA", quantity=2)
    assert_problem(inventory.hold(event, "cy", section_id="GA", quantity=1), 409)
    ga = inventory.section(event, "GA")
    assert (ga["available"], ga["held"], ga["sold"], ga["capacity"]) == (0, 5, 0, 5)


def test_a_seated_section_is_not_held_by_quantity(inventory: Any, event: str) -> None:
    assert_problem(inventory.hold(event, "ann", section_id="A", quantity=2), 422)
    assert_problem(inventory.hold(event, "ann", section_id="ZZ", quantity=2), 404)
    assert_problem(inventory.hold(event, "ann", seat_ids=["GA-1-1"]), 404)


def test_unknown_events_and_seats_are_404_and_hold_nothing(inventory: Any, event: str) -> None:
    assert_problem(inventory.hold("evt-missing", "ann", seat_ids=["A-1-1"]), 404)
    assert_problem(inventory.http.get("/api/v1/inventory/events/evt-missing/availability"), 404)
    body = assert_problem(inventory.hold(event, "ann", seat_ids=["A-1-9", "A-9-9", "Q-1-1"]), 404)
    assert sorted(body["unknown"]) == ["A-9-9", "Q-1-1"]
    assert inventory.availability(event, seats=True)["seats"]["A-1-9"] == "available"


@pytest.mark.parametrize(
    "body",
    [
        {"seat_ids": []},
        {"seat_ids": ["A-1-1", "A-1-2", "A-1-1"]},
        {"seat_ids": [f"A-1-{n}" for n in range(1, 11)] + ["A-2-1"]},  # 11 > the limit of 10
        {"seat_ids": "A-1-1"},
        {"seat_ids": [1, 2]},
        {"seat_ids": [""]},
        {"seat_ids": ["A-1-1"], "section_id": "GA", "quantity": 1},
        {"section_id": "GA"},
        {"quantity": 2},
        {},
        {"section_id": "GA", "quantity": 0},
        {"section_id": "GA", "quantity": 11},
        {"section_id": "GA", "quantity": "two"},
        {"seat_ids": ["A-1-1"], "user_id": "someone-else"},
        [],
    ],
)
def test_bad_hold_bodies_are_422_and_hold_nothing(inventory: Any, event: str, body: Any) -> None:
    response = inventory.http.post(HOLDS.format(event), json=body, headers=inventory.auth("ann"))
    assert_problem(response, 422)
    availability = inventory.availability(event)
    assert all(section["held"] == 0 for section in availability["sections"])


def test_malformed_json_is_400_and_a_huge_body_is_413(inventory: Any, event: str) -> None:
    headers = inventory.auth("ann") | {"Content-Type": "application/json"}
    assert_problem(
        inventory.http.post(HOLDS.format(event), content=b"{not json", headers=headers), 400
    )
    huge = b'{"seat_ids": ["' + b"A" * 100_000 + b'"]}'
    assert_problem(inventory.http.post(HOLDS.format(event), content=huge, headers=headers), 413)


def test_tokens_are_checked(inventory: Any, event: str) -> None:
    url = HOLDS.format(event)
    assert_problem(inventory.http.post(url, json={"seat_ids": ["A-1-1"]}), 401)
    token = inventory.token("ann")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = inventory.http.post(
        url, json={"seat_ids": ["A-1-1"]}, headers={"Authorization": f"Bearer {tampered}"}
    )
    assert_problem(response, 401)
    assert inventory.availability(event, seats=True)["seats"]["A-1-1"] == "available"


def test_a_user_has_a_limited_number_of_live_holds(inventory: Any, event: str) -> None:
    holds = [inventory.held(event, "hoarder", seat_ids=[f"B-1-{n}"]) for n in (1, 2, 3)]
    body = assert_problem(inventory.hold(event, "hoarder", seat_ids=["B-1-4"]), 409)
    assert body["limit"] == 3
    assert inventory.availability(event, seats=True)["seats"]["B-1-4"] == "available"
    inventory.held(event, "someone-else", seat_ids=["B-1-5"])  # the limit is per user
    assert inventory.release(holds[0]["hold_id"], "hoarder").status_code == 204
    inventory.held(event, "hoarder", seat_ids=["B-1-4"])


def test_an_idempotency_key_replays_the_first_answer(inventory: Any, event: str) -> None:
    headers = inventory.auth("ann") | {"Idempotency-Key": f"hold-{event}"}
    url = HOLDS.format(event)
    first = inventory.http.post(url, json={"seat_ids": ["A-4-1", "A-4-2"]}, headers=headers)
    second = inventory.http.post(url, json={"seat_ids": ["A-4-1", "A-4-2"]}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert inventory.section(event, "A")["held"] == 2  # held once
    other = inventory.http.post(url, json={"seat_ids": ["A-4-3"]}, headers=headers)
    assert_problem(other, 422)

    conflict_headers = inventory.auth("bob") | {"Idempotency-Key": f"conflict-{event}"}
    for _ in range(2):
        refused = inventory.http.post(url, json={"seat_ids": ["A-4-1"]}, headers=conflict_headers)
        assert assert_problem(refused, 409)["unavailable"] == ["A-4-1"]


def test_a_closed_event_takes_no_new_holds_but_keeps_its_state(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", seat_ids=["B-2-1"])
    assert inventory.internal("POST", f"/events/{event}/close").status_code == 200
    body = assert_problem(inventory.hold(event, "bob", seat_ids=["B-2-2"]), 409)
    assert body["type"].endswith("/event-closed")
    availability = inventory.availability(event, seats=True)
    assert availability["status"] == "closed"
    assert availability["seats"]["B-2-1"] == "held"
    assert inventory.confirm(hold["hold_id"], "bk-closed").status_code == 200


def test_availability_of_a_standing_only_event(inventory: Any) -> None:
    event = inventory.create_event(inventory.layout({}, {"FLOOR": 1000}))
    availability = inventory.availability(event, seats=True)
    assert availability["seats"] == {}
    assert availability["sections"] == [
        {
            "section_id": "FLOOR",
            "kind": "standing",
            "capacity": 1000,
            "available": 1000,
            "held": 0,
            "sold": 0,
        }
    ]


def test_bad_event_ids_are_refused(inventory: Any) -> None:
    response = inventory.http.get("/api/v1/inventory/events/%7Bx%7D/availability")
    assert_problem(response, 422)
    assert isinstance(response, httpx.Response)


def test_the_hold_route_is_documented(inventory: Any) -> None:
    spec = inventory.http.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/inventory/events/{event_id}/holds"]["post"]
    assert {p["name"] for p in operation["parameters"]} == {"event_id", "Idempotency-Key"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"seat_ids", "section_id", "quantity"}
    assert operation["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Hold"
    }
    assert {"401", "404", "409", "413", "422"} <= set(operation["responses"])
    assert operation["security"] == [{"HTTPBearer": []}]
