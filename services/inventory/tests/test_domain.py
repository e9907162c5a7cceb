"""Plain domain logic: layouts, ids, bitmaps, request shapes."""

import pytest
from pydantic import ValidationError
from ticketing_common.contracts import LayoutIn, SoldIn
from ticketing_common.problems import Problem
from ticketing_inventory.availability import SeatIds, decode_availability
from ticketing_inventory.ids import event_of_hold, new_hold_id, section_of_seat
from ticketing_inventory.layout import prepare_layout, prepare_sold
from ticketing_inventory.schemas import Hold, HoldIn
from ticketing_inventory.store import HoldView


def _layout(seats: list[str], standing: dict[str, int] | None = None) -> LayoutIn:
    return LayoutIn.model_validate(
        {
            "seats": [
                {"seat_id": s, "section_id": s.split("-")[0], "price_tier": "t"} for s in seats
            ],
            "standing": [
                {"section_id": k, "capacity": v, "price_tier": "g"}
                for k, v in (standing or {}).items()
            ],
        }
    )


def test_layouts_are_canonical_and_naturally_ordered() -> None:
    seats = ["B-1-1", "A-2-10", "A-2-9", "A-10-1", "A-2-1"]
    layout = prepare_layout(_layout(seats, {"GA": 7}))
    assert layout.seat_ids == ("A-2-1", "A-2-9", "A-2-10", "A-10-1", "B-1-1")
    assert [s.section_id for s in layout.sections] == ["A", "B", "GA"]
    assert [s.capacity for s in layout.sections] == [4, 1, 7]
    assert layout.capacity == 12
    assert layout.packed(4) == 4 * 1024 + 1  # B-1-1: index 4, section number 1
    same = prepare_layout(_layout(list(reversed(seats)), {"GA": 7}))
    assert same.digest == layout.digest
    assert prepare_layout(_layout(seats, {"GA": 8})).digest != layout.digest


@pytest.mark.parametrize(
    "seats",
    [["A-1-1", "A-1-1"], ["A-1"], ["A-1-1-1"], ["A--1"]],
)
def test_bad_seat_lists_are_refused(seats: list[str]) -> None:
    with pytest.raises(Problem) as refused:
        prepare_layout(_layout(seats))
    assert refused.value.status == 422


def test_sold_lists_are_checked_against_the_layout() -> None:
    layout = prepare_layout(_layout(["A-1-1", "A-1-2"], {"GA": 3}))
    entries = prepare_sold(
        layout,
        [
            SoldIn(booking_id="b1", seat_ids=["A-1-2"], quantity=1),
            SoldIn(booking_id="b2", section_id="GA", quantity=3),
        ],
    )
    assert entries == [["b1", [1 * 1024 + 0], -1, 0], ["b2", [], 1, 3]]
    with pytest.raises(Problem, match="sold to both"):
        prepare_sold(layout, [SoldIn(booking_id=b, seat_ids=["A-1-1"]) for b in ("x", "y")])
    with pytest.raises(Problem, match="than it holds"):
        prepare_sold(layout, [SoldIn(booking_id=b, section_id="GA", quantity=2) for b in "xy"])


def test_hold_ids_name_their_event_and_are_unguessable() -> None:
    ids = {new_hold_id("evt-1.a:b") for _ in range(1000)}
    assert len(ids) == 1000
    assert {event_of_hold(i) for i in ids} == {"evt-1.a:b"}
    for bad in ("", "evt-1", "short.evt-1", "x" * 22 + ".{evt}", "x" * 22 + "."):
        assert event_of_hold(bad) is None
    assert section_of_seat("VIP-3-12") == "VIP"


def test_seat_statuses_come_from_the_bitmaps() -> None:
    ids = [f"A-1-{n}" for n in range(1, 11)]
    # seat 0 sold, seat 2 held, seat 9 held but its claim expired (listed), seat 3 sold and held
    sold = bytes([0b10010000, 0])
    held = bytes([0b00110000, 0b01000000])
    reply = [
        b"ok",
        b"d1",
        b"open",
        b'[["A","seated",10]]',
        [b"0", b"2"],
        [1],
        sold,
        held,
        [b"9"],
        b"",
    ]
    answer, cache = decode_availability("e", reply, SeatIds(b"d1", ids))
    statuses = answer["seats"]
    assert statuses["A-1-1"] == "sold"
    assert statuses["A-1-3"] == "held"
    assert statuses["A-1-4"] == "sold"
    assert statuses["A-1-10"] == "available"
    assert sum(s == "available" for s in statuses.values()) == 7
    assert answer["sections"] == [
        {"section_id": "A", "kind": "seated", "capacity": 10, "available": 7, "held": 1, "sold": 2}
    ]
    assert cache is not None
    assert cache.ids == ids


@pytest.mark.parametrize(
    "body",
    [
        {"seat_ids": ["A-1-1", "A-1-1"]},
        {"seat_ids": []},
        {"section_id": "GA"},
        {"seat_ids": ["A-1-1"], "quantity": 1},
    ],
)
def test_hold_request_shapes(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        HoldIn.model_validate(body)


@pytest.mark.parametrize("expires_ms", [1_796_000_000_000, 1_796_000_000_007, 1_796_000_000_250])
def test_a_hold_written_by_the_hold_path_reads_as_the_hold_model_writes_it(
    expires_ms: int,
) -> None:
    """POST /holds answers from HoldView.public(), GET /holds/{id} through the `Hold` model: the
    same hold reads the same either way, a whole second included."""
    view = HoldView("h.evt", "evt", "ann", ["A-1-1"], None, 1, expires_ms, "held", None)
    assert view.public() == Hold.model_validate(view.public()).model_dump(mode="json")
