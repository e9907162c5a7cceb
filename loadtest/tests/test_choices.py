"""What simulated customers choose, and that load only ever goes to this machine."""

from __future__ import annotations

import random
from typing import Any

import pytest
from ticketing_loadtest.choices import (
    SeatChoice,
    booking_to_cancel,
    pick_seats,
    require_loopback,
    search_query,
)


def seatmap(taken: set[str], rows: int = 3, per_row: int = 6, standing: int = 0) -> dict[str, Any]:
    seats = {
        "section_id": "S1",
        "kind": "seated",
        "available": rows * per_row - len(taken),
        "rows": [
            {
                "label": str(r),
                "seats": [
                    {
                        "seat_id": f"S1-{r}-{n}",
                        "status": "sold" if f"S1-{r}-{n}" in taken else "available",
                    }
                    for n in range(1, per_row + 1)
                ],
            }
            for r in range(1, rows + 1)
        ],
    }
    sections = [seats]
    if standing:
        sections.append({"section_id": "GA", "kind": "standing", "available": standing})
    return {"sections": sections}


def test_picks_adjacent_available_seats_in_one_row() -> None:
    taken = {"S1-1-2", "S1-1-5", "S1-2-3", "S1-3-1", "S1-3-4"}
    for seed in range(50):
        choice = pick_seats(seatmap(taken), 2, random.Random(seed))
        assert choice is not None
        (first, second) = choice.seat_ids
        assert first.rsplit("-", 1)[0] == second.rsplit("-", 1)[0]
        assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1
        assert not set(choice.seat_ids) & taken


def test_front_rows_and_refused_seats_narrow_the_choice() -> None:
    rng = random.Random(1)
    for _ in range(30):
        choice = pick_seats(seatmap(set()), 2, rng, front_rows=1)
        assert choice is not None
        assert all(s.startswith("S1-1-") for s in choice.seat_ids)
    refused = frozenset(f"S1-1-{n}" for n in range(1, 7))
    choice = pick_seats(seatmap(set()), 2, rng, front_rows=1, exclude=refused)
    assert choice is None  # the front row was all refused


def test_standing_and_sold_out() -> None:
    everything = {f"S1-{r}-{n}" for r in range(1, 4) for n in range(1, 7)}
    choice = pick_seats(seatmap(everything, standing=5), 3, random.Random(0))
    assert choice == SeatChoice(section_id="GA", quantity=3)
    assert choice.body() == {"section_id": "GA", "quantity": 3}
    assert pick_seats(seatmap(everything), 1, random.Random(0)) is None
    # Seats left, but never two together: no choice rather than scattered seats.
    alternate = {f"S1-{r}-{n}" for r in range(1, 4) for n in (2, 4, 6)}
    assert pick_seats(seatmap(alternate), 2, random.Random(0)) is None


def test_only_cancellable_bookings_are_cancelled() -> None:
    page = {
        "items": [
            {"booking_id": "a", "status": "refunded"},
            {"booking_id": "b", "status": "confirmed"},
            {"booking_id": "c", "status": "failed"},
        ]
    }
    assert booking_to_cancel(page, random.Random(0)) == "b"
    assert (
        booking_to_cancel({"items": [{"booking_id": "a", "status": "expired"}]}, random.Random(0))
        is None
    )


def test_searches_look_like_peoples() -> None:
    queries = [search_query(random.Random(seed)) for seed in range(200)]
    assert all(q["q"] and q["limit"] == "20" for q in queries)
    assert 0 < sum("city" in q for q in queries) < 200


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.0.0.2:9000/",
        "http://localhost:8000",
        "http://[::1]:8000",
    ],
)
def test_loopback_targets_are_accepted(url: str) -> None:
    assert require_loopback(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.5:8000", "https://api.ticketing-pro.com", "http://192.168.1.2", "http://"],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(SystemExit, match="loopback addresses only"):
        require_loopback(url)


def test_a_host_of_ones_own_must_be_named_on_purpose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOADTEST_ALLOWED_HOSTS", "staging.example.test, other.example.test")
    assert require_loopback("https://staging.example.test/") == "https://staging.example.test"
    with pytest.raises(SystemExit, match="loopback addresses only"):
        require_loopback("https://prod.example.test")
    monkeypatch.setenv("LOADTEST_ALLOWED_HOSTS", "")
    with pytest.raises(SystemExit, match="loopback addresses only"):
        require_loopback("http://")
