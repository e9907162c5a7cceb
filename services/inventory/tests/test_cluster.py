"""The same scripts on a real Redis Cluster of three masters that the test session starts itself
(redis-server --cluster-enabled yes on spare ports), through the service configured with
REDIS_CLUSTER=true. Skipped, saying why, only where redis-server is not installed."""

import random
import time
from datetime import datetime
from typing import Any

import orjson
import pytest
from redis.cluster import RedisCluster
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_inventory.keys import event_keys
from ticketing_inventory.scripts import Scripts


@pytest.fixture(scope="module")
def nodes(redis_cluster_url: str) -> RedisCluster:
    return RedisCluster.from_url(redis_cluster_url)


def test_an_events_keys_share_a_slot_and_events_spread_over_the_nodes(
    cluster: Any, nodes: RedisCluster
) -> None:
    events = [cluster.create_event(cluster.layout({"A": (1, 4)})) for _ in range(12)]
    homes = set()
    for event in events:
        hold = cluster.held(event, "ann", seat_ids=["A-1-1"])
        keys = [key.decode() for node_keys in _keys_of(nodes, event) for key in node_keys]
        assert f"inv:{{{event}}}:hold:{hold['hold_id']}" in keys
        assert len({nodes.keyslot(key) for key in keys}) == 1, keys
        homes.add(nodes.get_node_from_key(keys[0]).name)
    assert len(homes) >= 2, homes  # twelve events did not all land on one node


def _keys_of(nodes: RedisCluster, event: str) -> list[list[bytes]]:
    return [nodes.keys(f"inv:{{{event}}}:*", target_nodes=node) for node in nodes.get_primaries()]


def test_holds_conflicts_and_counts_on_a_cluster(cluster: Any) -> None:
    event = cluster.create_event(cluster.layout({"A": (2, 10), "B": (1, 10)}, {"GA": 4}))
    first = cluster.held(event, "ann", seat_ids=["A-1-1", "A-1-2", "B-1-1"])
    body = assert_problem(cluster.hold(event, "bob", seat_ids=["A-1-2", "A-1-3"]), 409)
    assert body["unavailable"] == ["A-1-2"]
    assert_problem(cluster.hold(event, "bob", seat_ids=["A-9-9"]), 404)
    cluster.held(event, "bob", section_id="GA", quantity=4)
    assert_problem(cluster.hold(event, "cy", section_id="GA", quantity=1), 409)
    availability = cluster.availability(event, seats=True)
    cluster.check_seat_counts(availability)
    assert cluster.seats_in(availability, "held") == {"A-1-1", "A-1-2", "B-1-1"}

    owner_view = cluster.http.get(
        f"/api/v1/inventory/holds/{first['hold_id']}", headers=cluster.auth("ann")
    )
    assert owner_view.json() == first
    assert cluster.confirm(first["hold_id"], "bk-1").json()["reclaimed"] is False
    assert cluster.confirm(first["hold_id"], "bk-1").status_code == 200
    sale = {"booking_id": "bk-1", "seat_ids": ["A-1-1"], "quantity": 1}
    released = cluster.internal("POST", f"/events/{event}/release-sold", json=sale)
    assert released.json()["released_seat_ids"] == ["A-1-1"]
    counts = {
        s["section_id"]: (s["held"], s["sold"]) for s in cluster.availability(event)["sections"]
    }
    assert counts == {"A": (0, 1), "B": (0, 1), "GA": (4, 0)}

    again = cluster.held(event, "dan", seat_ids=["A-1-1"])
    assert cluster.release(again["hold_id"], "dan").status_code == 204
    assert cluster.availability(event, seats=True)["seats"]["A-1-1"] == "available"


def test_idempotency_keys_and_a_rebuild_on_a_cluster(cluster: Any, nodes: RedisCluster) -> None:
    layout = cluster.layout({"A": (1, 10)})
    event = cluster.create_event(layout)
    headers = cluster.auth("ann") | {"Idempotency-Key": f"k-{event}"}
    path = f"/api/v1/inventory/events/{event}/holds"
    first = cluster.http.post(path, json={"seat_ids": ["A-1-5"]}, headers=headers)
    second = cluster.http.post(path, json={"seat_ids": ["A-1-5"]}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    sold = [{"booking_id": "bk-r", "seat_ids": ["A-1-1", "A-1-2"], "quantity": 2}]
    rebuilt = cluster.internal(
        "POST", f"/events/{event}/rebuild", json={"layout": layout, "sold": sold}
    )
    assert rebuilt.json()["sold"] == 2
    a = cluster.section(event, "A")
    assert (a["sold"], a["held"], a["available"]) == (2, 0, 8)
    assert cluster.put_layout(event, layout).json()["created"] is False
    # A rebuild that restores a booked hold writes its record and its owner's list too: keys of
    # the event's slot, passed to the script.
    paying = cluster.held(event, "bob", seat_ids=["A-1-7"])
    booked = {
        "hold_id": paying["hold_id"],
        "booking_id": "bk-p",
        "user_id": "bob",
        "seat_ids": ["A-1-7"],
        "quantity": 1,
        "expires_at": paying["expires_at"],
    }
    body = {"layout": layout, "sold": sold, "holds": [booked]}
    rebuilt = cluster.internal("POST", f"/events/{event}/rebuild", json=body)
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json()["holds_restored"] == 1
    assert cluster.section(event, "A")["held"] == 1
    assert cluster.confirm(paying["hold_id"], "bk-p").json()["reclaimed"] is False
    # The reconciler's script, on the cluster: a sale booking holds that inventory lacks comes
    # back, one no booking holds goes.
    cluster.internal("POST", f"/events/{event}/release-sold", json=sold[0])
    assert cluster.section(event, "A")["sold"] == 1
    truth = orjson.dumps([["bk-r", ["A-1-1", "A-1-2"], "", 2]])
    reply = Scripts(nodes).reconcile(  # type: ignore[arg-type]
        keys=event_keys(event), args=[truth, b"[]", orjson.dumps(["bk-p"])]
    )
    assert reply[:2] == [b"ok", [b"bk-r"]]
    assert reply[4] == [b"bk-p"]
    a = cluster.section(event, "A")
    assert (a["sold"], a["held"]) == (2, 0)


def test_scripts_are_reloaded_after_a_script_flush_on_every_node(
    cluster: Any, nodes: RedisCluster
) -> None:
    event = cluster.create_event(cluster.layout({"A": (1, 10)}))
    sha = Scripts(nodes).hold_seats.sha  # type: ignore[arg-type]
    home = nodes.get_node_from_key(f"inv:{{{event}}}:meta").redis_connection
    assert home.script_exists(sha) == [True]  # loaded once at startup
    for node in nodes.get_primaries():
        node.redis_connection.script_flush()
    assert home.script_exists(sha) == [False]
    hold = cluster.held(event, "ann", seat_ids=["A-1-1"])  # NOSCRIPT -> SCRIPT LOAD -> EVALSHA
    assert home.script_exists(sha) == [True]
    assert cluster.section(event, "A")["held"] == 1
    assert cluster.confirm(hold["hold_id"], "bk-flush").status_code == 200


async def test_a_race_on_a_cluster(cluster: Any) -> None:
    """A thousand clients over two events (on different nodes when the slots say so)."""
    events = [cluster.create_event(cluster.layout({"A": (10, 25)})) for _ in range(2)]
    rng = random.Random(3)
    wanted = cluster.overlapping_blocks(1_000, rng, sections="A")
    targets = [events[n % 2] for n in range(len(wanted))]
    calls = [
        (
            "POST",
            f"/api/v1/inventory/events/{event}/holds",
            cluster.auth(f"c-{n}"),
            {"seat_ids": seats},
        )
        for n, (event, seats) in enumerate(zip(targets, wanted, strict=True))
    ]
    answers = await cluster.all_at_once(calls)
    owner: dict[tuple[str, str], str] = {}
    for event, seats, (status, body) in zip(targets, wanted, answers, strict=True):
        assert status in (201, 409), (status, body)
        if status == 201:
            for seat in seats:
                assert (event, seat) not in owner
                owner[(event, seat)] = body["hold_id"]
        else:
            assert set(body["unavailable"]) <= set(seats)
    for event in events:
        availability = cluster.availability(event, seats=True)
        assert cluster.seats_in(availability, "held") == {s for e, s in owner if e == event}
        cluster.check_seat_counts(availability)


def test_expiry_on_a_cluster(cluster_short_ttl: Any) -> None:
    inventory = cluster_short_ttl
    event = inventory.create_event(inventory.layout({"A": (1, 10)}))
    free_later = inventory.held(event, "ann", seat_ids=["A-1-1"])
    taken_later = inventory.held(event, "bob", seat_ids=["A-1-2"])
    expires = datetime.fromisoformat(taken_later["expires_at"]).timestamp()
    time.sleep(max(0.0, expires + 0.05 - time.time()))
    assert inventory.section(event, "A")["held"] == 0
    inventory.held(event, "cy", seat_ids=["A-1-2"])
    assert inventory.confirm(free_later["hold_id"], "bk-a").json()["reclaimed"] is True
    body = assert_problem(inventory.confirm(taken_later["hold_id"], "bk-b"), 409)
    assert body["unavailable"] == ["A-1-2"]
    inventory.check_seat_counts(inventory.availability(event, seats=True))
