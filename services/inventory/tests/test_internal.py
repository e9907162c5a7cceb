"""The service-to-service API over real HTTP: layout, hold lookup, confirm, release, release-sold,
rebuild and close."""

import time
from typing import Any

import pytest
import redis
from ticketing_devkit.pytest_plugin import assert_problem


@pytest.fixture
def event(inventory: Any) -> str:
    return inventory.create_event(inventory.layout({"A": (2, 10)}, {"GA": 10}))


def _statuses(inventory: Any, event: str, *seats: str) -> list[str]:
    all_seats = inventory.availability(event, seats=True)["seats"]
    return [all_seats[seat] for seat in seats]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/events/e1/layout"),
        ("GET", "/holds/h1"),
        ("POST", "/holds/h1/confirm"),
        ("POST", "/holds/h1/release"),
        ("POST", "/events/e1/release-sold"),
        ("POST", "/events/e1/rebuild"),
        ("POST", "/events/e1/close"),
    ],
)
def test_internal_routes_need_the_service_credential(
    inventory: Any, method: str, path: str
) -> None:
    assert_problem(inventory.http.request(method, f"/internal{path}", json={}), 401)
    wrong = {"X-Service-Token": "not-it"}
    assert_problem(inventory.http.request(method, f"/internal{path}", json={}, headers=wrong), 401)
    user = inventory.auth("ann")  # a customer's token is no service credential
    assert_problem(inventory.http.request(method, f"/internal{path}", json={}, headers=user), 401)


def test_layout_init_is_idempotent_and_refuses_another_layout(inventory: Any) -> None:
    event = inventory.new_event_id()
    layout = inventory.layout({"A": (3, 4), "B": (1, 2)}, {"GA": 50})
    first = inventory.put_layout(event, layout)
    assert first.status_code == 200
    assert first.json() == {"event_id": event, "created": True, "capacity": 64}
    # The same layout in another order is the same layout.
    shuffled = {"seats": list(reversed(layout["seats"])), "standing": layout["standing"]}
    again = inventory.put_layout(event, shuffled)
    assert again.json() == {"event_id": event, "created": False, "capacity": 64}

    other = {**layout, "standing": [{"section_id": "GA", "capacity": 51, "price_tier": "ga"}]}
    body = assert_problem(inventory.put_layout(event, other), 409)
    assert body["type"].endswith("/layout-mismatch")
    retiered = {
        **layout,
        "seats": [{**layout["seats"][0], "price_tier": "vip"}, *layout["seats"][1:]],
    }
    assert_problem(inventory.put_layout(event, retiered), 409)
    assert inventory.section(event, "GA")["capacity"] == 50


@pytest.mark.parametrize(
    "layout",
    [
        {"seats": [], "standing": []},
        {"seats": [{"seat_id": "A-1-1", "section_id": "B", "price_tier": "x"}]},
        {"seats": [{"seat_id": "A-1", "section_id": "A", "price_tier": "x"}]},
        {"seats": [{"seat_id": "A-1-1", "section_id": "A", "price_tier": "x"}] * 2},
        {
            "seats": [{"seat_id": "A-1-1", "section_id": "A", "price_tier": "x"}],
            "standing": [{"section_id": "A", "capacity": 5, "price_tier": "x"}],
        },
        {"standing": [{"section_id": "GA", "capacity": 0, "price_tier": "x"}]},
        {"standing": [{"section_id": "GA", "capacity": 5, "price_tier": "x"}] * 2},
        {"standing": [{"section_id": "G-A", "capacity": 5, "price_tier": "x"}]},
        {"seats": "A-1-1"},
        {"seats": [{"seat_id": "A-1-1", "section_id": "A"}]},
        {"seats": [], "extra": 1},
    ],
)
def test_invalid_layouts_are_422(inventory: Any, layout: dict[str, Any]) -> None:
    event = inventory.new_event_id()
    assert_problem(inventory.put_layout(event, layout), 422)
    # Inventory first takes the lost event for one on sale (503 while it checks with events),
    # then learns events never published it: 404.
    deadline = time.monotonic() + 10
    while (
        lost := inventory.http.get(f"/api/v1/inventory/events/{event}/availability")
    ).status_code != 404:
        assert_problem(lost, 503)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert_problem(lost, 404)


def test_the_hold_record_for_services(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", seat_ids=["A-1-1"])
    record = inventory.internal("GET", f"/holds/{hold['hold_id']}").json()
    assert record == {**hold, "booking_id": None}
    standing = inventory.held(event, "ann", section_id="GA", quantity=2)
    record = inventory.internal("GET", f"/holds/{standing['hold_id']}").json()
    assert (record["section_id"], record["quantity"], record["seat_ids"]) == ("GA", 2, [])
    assert_problem(inventory.internal("GET", "/holds/" + "x" * 22 + f".{event}"), 404)


def test_confirm_sells_the_seats_once_per_booking(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", seat_ids=["A-1-2", "A-1-3"])
    confirmed = inventory.confirm(hold["hold_id"], "bk-1")
    assert confirmed.status_code == 200
    assert confirmed.json() == {
        "hold_id": hold["hold_id"],
        "booking_id": "bk-1",
        "event_id": event,
        "seat_ids": ["A-1-2", "A-1-3"],
        "section_id": None,
        "quantity": 2,
        "reclaimed": False,
    }
    assert inventory.confirm(hold["hold_id"], "bk-1").json() == confirmed.json()  # idempotent
    body = assert_problem(inventory.confirm(hold["hold_id"], "bk-2"), 409)
    assert body["type"].endswith("/hold-confirmed-elsewhere")

    a = inventory.section(event, "A")
    assert (a["sold"], a["held"], a["available"]) == (2, 0, 18)
    assert _statuses(inventory, event, "A-1-2", "A-1-3") == ["sold", "sold"]
    record = inventory.internal("GET", f"/holds/{hold['hold_id']}").json()
    assert (record["status"], record["booking_id"]) == ("confirmed", "bk-1")
    # Sold seats are nobody's to release: neither the owner nor a service can.
    assert_problem(inventory.release(hold["hold_id"], "ann"), 409)
    assert_problem(inventory.internal("POST", f"/holds/{hold['hold_id']}/release"), 409)
    assert_problem(inventory.hold(event, "bob", seat_ids=["A-1-2"]), 409)


def test_confirm_of_a_released_or_unknown_hold(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", seat_ids=["A-1-4"])
    assert inventory.internal("POST", f"/holds/{hold['hold_id']}/release").status_code == 204
    assert inventory.internal("POST", f"/holds/{hold['hold_id']}/release").status_code == 204
    body = assert_problem(inventory.confirm(hold["hold_id"], "bk-3"), 409)
    assert body["type"].endswith("/hold-released")
    assert _statuses(inventory, event, "A-1-4") == ["available"]
    assert_problem(inventory.confirm("x" * 22 + f".{event}", "bk-3"), 404)
    assert_problem(inventory.confirm("not-a-hold", "bk-3"), 404)
    assert_problem(inventory.internal("POST", "/holds/not-a-hold/release"), 404)
    assert_problem(inventory.internal("POST", f"/holds/{hold['hold_id']}/confirm", json={}), 422)


def test_standing_confirm_and_release_sold(inventory: Any, event: str) -> None:
    hold = inventory.held(event, "ann", section_id="GA", quantity=4)
    assert inventory.confirm(hold["hold_id"], "bk-ga").json()["reclaimed"] is False
    ga = inventory.section(event, "GA")
    assert (ga["sold"], ga["held"], ga["available"]) == (4, 0, 6)
    sale = {"booking_id": "bk-ga", "seat_ids": [], "section_id": "GA", "quantity": 4}
    for _ in range(2):  # idempotent: the second call finds nothing left to give back
        inventory.internal("POST", f"/events/{event}/release-sold", json=sale)
    ga = inventory.section(event, "GA")
    assert (ga["sold"], ga["available"]) == (0, 10)


def test_release_sold_gives_back_only_the_bookings_own_seats(inventory: Any, event: str) -> None:
    mine = inventory.held(event, "ann", seat_ids=["A-2-1", "A-2-2"])
    theirs = inventory.held(event, "bob", seat_ids=["A-2-3"])
    inventory.confirm(mine["hold_id"], "bk-mine")
    inventory.confirm(theirs["hold_id"], "bk-theirs")
    sale = {"booking_id": "bk-mine", "seat_ids": ["A-2-1", "A-2-2", "A-2-3"], "quantity": 0}
    first = inventory.internal("POST", f"/events/{event}/release-sold", json=sale)
    assert first.status_code == 200
    assert first.json() == {
        "event_id": event,
        "booking_id": "bk-mine",
        "released_seat_ids": ["A-2-1", "A-2-2"],
        "released_quantity": 0,
    }
    again = inventory.internal("POST", f"/events/{event}/release-sold", json=sale)
    assert again.json()["released_seat_ids"] == []
    assert _statuses(inventory, event, "A-2-1", "A-2-2", "A-2-3") == [
        "available",
        "available",
        "sold",
    ]
    inventory.assert_counts_add_up(inventory.availability(event))
    assert inventory.section(event, "A")["sold"] == 1
    unknown = {"booking_id": "bk-mine", "seat_ids": ["A-9-9"]}
    assert_problem(inventory.internal("POST", f"/events/{event}/release-sold", json=unknown), 404)
    missing = {"booking_id": "bk-mine", "seat_ids": ["A-2-1"]}
    assert_problem(inventory.internal("POST", "/events/evt-none/release-sold", json=missing), 404)
    bad = {"booking_id": "bk", "seat_ids": ["A-2-1"], "section_id": "GA", "quantity": 1}
    assert_problem(inventory.internal("POST", f"/events/{event}/release-sold", json=bad), 422)


def test_rebuild_recreates_the_state_from_layout_and_sales(
    inventory: Any, event: str, redis_url: str
) -> None:
    layout = inventory.layout({"A": (2, 10)}, {"GA": 10})
    sold_hold = inventory.held(event, "ann", seat_ids=["A-1-1", "A-1-2"])
    inventory.confirm(sold_hold["hold_id"], "bk-sold")
    lost_hold = inventory.held(event, "bob", seat_ids=["A-1-5"])
    standing = inventory.held(event, "cy", section_id="GA", quantity=3)
    inventory.confirm(standing["hold_id"], "bk-ga")

    # The cache is lost: every key of the event is gone.
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys(f"inv:{{{event}}}:*"))
    # Inventory first takes the lost event for one on sale (503 while it checks with events),
    # then learns events never published it: 404.
    deadline = time.monotonic() + 10
    while (
        lost := inventory.http.get(f"/api/v1/inventory/events/{event}/availability")
    ).status_code != 404:
        assert_problem(lost, 503)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert_problem(lost, 404)

    sold = [
        {
            "booking_id": "bk-sold",
            "seat_ids": ["A-1-1", "A-1-2"],
            "section_id": None,
            "quantity": 2,
        },
        {"booking_id": "bk-ga", "seat_ids": [], "section_id": "GA", "quantity": 3},
    ]
    rebuilt = inventory.internal(
        "POST", f"/events/{event}/rebuild", json={"layout": layout, "sold": sold}
    )
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json() == {
        "event_id": event,
        "capacity": 30,
        "sold": 5,
        "status": "open",
        "holds_restored": 0,
        "holds_skipped": [],
    }
    availability = inventory.availability(event, seats=True)
    inventory.assert_counts_add_up(availability)
    counts = {s["section_id"]: (s["sold"], s["held"]) for s in availability["sections"]}
    assert counts == {"A": (2, 0), "GA": (3, 0)}
    assert availability["seats"]["A-1-5"] == "available"
    # The sales are known again: a refund gives the seats back.
    refund = {"booking_id": "bk-sold", "seat_ids": ["A-1-1", "A-1-2"], "quantity": 2}
    released = inventory.internal("POST", f"/events/{event}/release-sold", json=refund)
    assert released.json()["released_seat_ids"] == ["A-1-1", "A-1-2"]
    assert_problem(inventory.confirm(lost_hold["hold_id"], "bk-late"), 404)  # its record is gone


def test_rebuild_while_holds_exist_lets_them_lapse(inventory: Any, event: str) -> None:
    layout = inventory.layout({"A": (2, 10)}, {"GA": 10})
    early = inventory.held(event, "ann", seat_ids=["A-2-9"])
    taken_later = inventory.held(event, "bob", seat_ids=["A-2-10"])
    response = inventory.internal("POST", f"/events/{event}/rebuild", json={"layout": layout})
    assert response.json()["sold"] == 0
    assert inventory.section(event, "A")["held"] == 0  # holds do not survive a rebuild
    record = inventory.internal("GET", f"/holds/{early['hold_id']}").json()
    assert record["status"] == "expired"
    inventory.held(event, "cy", seat_ids=["A-2-10"])
    # A confirm after the rebuild re-claims the seats that are still free...
    confirmed = inventory.confirm(early["hold_id"], "bk-early")
    assert confirmed.status_code == 200
    assert confirmed.json()["reclaimed"] is True
    # ...and fails clearly where someone else holds them now.
    body = assert_problem(inventory.confirm(taken_later["hold_id"], "bk-later"), 409)
    assert body["unavailable"] == ["A-2-10"]


def test_rebuild_refuses_inconsistent_sales(inventory: Any, event: str) -> None:
    layout = inventory.layout({"A": (2, 10)}, {"GA": 10})
    twice = [
        {"booking_id": "b1", "seat_ids": ["A-1-1"]},
        {"booking_id": "b2", "seat_ids": ["A-1-1"]},
    ]
    unknown = [{"booking_id": "b1", "seat_ids": ["Z-1-1"]}]
    oversold = [{"booking_id": "b1", "section_id": "GA", "quantity": 11}]
    path = f"/events/{event}/rebuild"
    assert_problem(inventory.internal("POST", path, json={"layout": layout, "sold": twice}), 409)
    assert_problem(inventory.internal("POST", path, json={"layout": layout, "sold": unknown}), 422)
    assert_problem(inventory.internal("POST", path, json={"layout": layout, "sold": oversold}), 409)


def test_close_is_kept_across_a_rebuild_and_unknown_events_are_404(
    inventory: Any, event: str
) -> None:
    assert inventory.internal("POST", f"/events/{event}/close").json() == {
        "event_id": event,
        "status": "closed",
    }
    assert inventory.internal("POST", f"/events/{event}/close").status_code == 200
    layout = inventory.layout({"A": (2, 10)}, {"GA": 10})
    rebuilt = inventory.internal("POST", f"/events/{event}/rebuild", json={"layout": layout})
    assert rebuilt.json()["status"] == "closed"
    assert_problem(inventory.hold(event, "ann", seat_ids=["A-1-1"]), 409)
    assert_problem(inventory.internal("POST", "/events/evt-none/close"), 404)
