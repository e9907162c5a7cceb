"""The compact availability: two bitmaps in the seat ids' natural order, the same states as
`?seats=true`, a claim that expired reads as free at once, sold and held never both set."""

import base64
import time
from datetime import datetime
from typing import Any

from ticketing_common.seats import bit_indexes
from ticketing_devkit.pytest_plugin import assert_problem


def bits_of(inventory: Any, event_id: str) -> dict[str, Any]:
    response = inventory.http.get(f"/api/v1/inventory/events/{event_id}/availability/bits")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()  # type: ignore[no-any-return]


def states(answer: dict[str, Any], seat_ids: list[str]) -> dict[str, str]:
    """Each seat's state read off the bitmaps, by the shared bit order."""
    sold, held = base64.b64decode(answer["sold"]), base64.b64decode(answer["held"])
    assert len(sold) == len(held) == (answer["seat_count"] + 7) // 8
    found = {}
    for seat_id, bit in bit_indexes(seat_ids).items():
        mask = 0x80 >> (bit & 7)
        is_sold, is_held = bool(sold[bit >> 3] & mask), bool(held[bit >> 3] & mask)
        assert not (is_sold and is_held), seat_id
        found[seat_id] = "sold" if is_sold else "held" if is_held else "available"
    return found


def test_the_bitmaps_say_what_the_seat_list_says(inventory: Any) -> None:
    # Rows 1..12: natural order puts A-10-1 after A-9-1 (a plain string sort would not).
    layout = inventory.layout({"A": (12, 3), "B": (1, 5)}, {"GA": 20})
    event_id = inventory.create_event(layout)
    seat_ids = [seat["seat_id"] for seat in layout["seats"]]
    sold_hold = inventory.held(event_id, "ann", seat_ids=["A-10-2", "B-1-5"])
    confirmed = inventory.confirm(sold_hold["hold_id"], "booking-1")
    assert confirmed.status_code == 200, confirmed.text
    inventory.held(event_id, "bob", seat_ids=["A-9-1", "A-10-1", "A-2-3"])
    inventory.held(event_id, "bob", section_id="GA", quantity=4)

    answer = bits_of(inventory, event_id)
    assert answer["seat_count"] == len(seat_ids) == 41
    assert states(answer, seat_ids) == inventory.availability(event_id, seats=True)["seats"]
    by_state = {
        s: {k for k, v in states(answer, seat_ids).items() if v == s} for s in ("sold", "held")
    }
    assert by_state == {"sold": {"A-10-2", "B-1-5"}, "held": {"A-9-1", "A-10-1", "A-2-3"}}
    counts = {s["section_id"]: (s["available"], s["held"], s["sold"]) for s in answer["sections"]}
    assert counts == {"A": (32, 3, 1), "B": (4, 0, 1), "GA": (16, 4, 0)}
    assert answer["status"] == "open"


def test_an_expired_claim_reads_as_free_before_any_sweep(short_ttl: Any) -> None:
    layout = short_ttl.layout({"A": (1, 10)})
    event_id = short_ttl.create_event(layout)
    seat_ids = [seat["seat_id"] for seat in layout["seats"]]
    hold = short_ttl.held(event_id, "ann", seat_ids=["A-1-3", "A-1-9"])
    assert {
        k for k, v in states(bits_of(short_ttl, event_id), seat_ids).items() if v == "held"
    } == {
        "A-1-3",
        "A-1-9",
    }
    expires = datetime.fromisoformat(hold["expires_at"]).timestamp()
    time.sleep(max(0.0, expires + 0.05 - time.time()))
    assert set(states(bits_of(short_ttl, event_id), seat_ids).values()) == {"available"}


def test_standing_only_events_and_unknown_events(inventory: Any) -> None:
    event_id = inventory.create_event(inventory.layout({}, {"GA": 7}))
    answer = bits_of(inventory, event_id)
    assert (answer["seat_count"], answer["sold"], answer["held"]) == (0, "", "")
    missing = inventory.http.get("/api/v1/inventory/events/evt-nope/availability/bits")
    assert_problem(missing, 404)
    malformed = inventory.http.get("/api/v1/inventory/events/-evt/availability/bits")
    assert_problem(malformed, 422)
    assert malformed.json()["errors"][0]["loc"] == ["path", "event_id"]
