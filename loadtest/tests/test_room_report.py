"""The waiting room's report from the customers' records: rates, overlaps, order agreement."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

from ticketing_loadtest.room import (
    Records,
    Visit,
    admission_claims,
    kendall_tau,
    max_overlap,
    per_window,
    report,
    sequence_of,
    summarize,
)

SETTINGS = {
    "event_id": "evt-1",
    "enabled": True,
    "opens_at": "2030-01-01T00:00:00+00:00",
    "admission_per_minute": 60,
    "max_shoppers": 3,
    "shopping_minutes": 2,
}
OPENS = 1893456000.0  # 2030-01-01T00:00:00Z


def test_order_agreement_and_windows() -> None:
    assert kendall_tau([1, 2, 3, 4]) == 1.0
    assert kendall_tau([4, 3, 2, 1]) == -1.0
    shuffled = list(range(200))
    random.Random(7).shuffle(shuffled)
    assert abs(kendall_tau(shuffled)) < 0.15
    assert max_overlap([(0, 10), (5, 15), (9, 20), (16, 30)]) == 3
    assert per_window([0, 0.5, 0.9, 1.0, 5.0], 1.0) == 3
    assert per_window([0.0, 30.0, 59.9, 60.0, 61.0], 60.0) == 4  # (1, 61]


def test_claims_of_a_token_are_read_without_its_key() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"jti": "abc-42"}).encode()).decode()
    claims = admission_claims(f"header.{payload.rstrip('=')}.signature")
    assert sequence_of(claims["jti"]) == 42


def test_the_report_measures_what_the_room_did(tmp_path: Path) -> None:
    records = Records(SETTINGS)
    # Four early arrivals admitted in a shuffled order, then six later ones in arrival order,
    # one a second; each shops 5 s.
    early = [Visit(arrived_at=OPENS - 10 + i, early=True) for i in range(4)]
    late = [Visit(arrived_at=OPENS + 1 + i, early=False) for i in range(6)]
    for seq, visit in enumerate([early[2], early[0], early[3], early[1], *late], start=1):
        visit.admitted_seq = seq
        visit.admitted_at = OPENS + seq
        visit.left_at = OPENS + seq + 2.5
        visit.outcome = "booked"
    waiting = Visit(arrived_at=OPENS + 20, early=False)
    records.visits = [*early, *late, waiting]
    records.inventory_calls = [OPENS + i / 10 for i in range(100)]
    found = report(records)
    assert found["admitted"] == 10
    assert found["still_waiting_at_end"] == 1
    assert found["admitted_in_busiest_second"] == 1
    assert found["admitted_in_busiest_minute"] == 10
    assert found["most_shopping_at_once"] == 3
    assert found["order_after_opening"]["kendall_tau"] == 1.0
    assert found["order_after_opening"]["in_arrival_order"] == 1.0
    assert found["order_before_opening"]["kendall_tau"] < 1.0
    assert found["inventory_requests"] == 100
    assert found["inventory_requests_per_s_peak"] == 10

    # Written by two processes, read as one run.
    half = len(records.visits) // 2
    Records(SETTINGS, records.visits[:half], records.inventory_calls).write(
        tmp_path / "run_room-1.json"
    )
    Records(SETTINGS, records.visits[half:], []).write(tmp_path / "run_room-2.json")
    summary = summarize(str(tmp_path / "run"))
    assert summary == found
    assert json.loads((tmp_path / "run_room.json").read_text()) == found


def test_the_rooms_own_count_of_shoppers_wins_over_the_customers_records() -> None:
    records = Records(SETTINGS)
    visit = Visit(arrived_at=OPENS + 1, early=False, admitted_seq=1, admitted_at=OPENS + 2)
    visit.left_at = OPENS + 3
    records.visits = [visit]
    assert report(records)["most_shopping_measured_by"] == "the customers' records"
    records.shopping_samples = [(OPENS + 1, 0), (OPENS + 2, 3), (OPENS + 3, 2)]
    found = report(records)
    assert found["most_shopping_at_once"] == 3
    assert found["most_shopping_measured_by"] == "the room's state"
