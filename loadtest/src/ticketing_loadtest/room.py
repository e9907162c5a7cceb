"""The burst through the waiting room: what each simulated customer saw of it, and the run's
report — admissions per minute against the configured rate, the most people shopping at once,
inventory's request rate during the burst, and how closely admission order follows arrival
order (after the opening: first come, first served; before it: a random draw).

Each Locust process writes its customers' records (`room-<pid>.json` beside the run's CSV);
`ticketing-loadtest run` (or `ticketing-loadtest room-report CSV_PREFIX`) reads them all."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class Visit:
    """One customer's way through the room (wall-clock seconds)."""

    arrived_at: float  # the join
    early: bool  # arrived before the opening
    admitted_seq: int | None = None  # the admission's number in the room (its jti)
    admitted_at: float | None = None  # the admission, as the token says (whole seconds)
    seen_admitted_at: float | None = None  # the poll that brought the token
    left_at: float | None = None  # booked, gave up, or the shopping time's end
    polls: int = 0
    outcome: str = "waiting"  # booked | gave-up | waiting (still in the queue at the end)


@dataclass
class Records:
    settings: dict[str, Any]
    visits: list[Visit] = field(default_factory=list)
    inventory_calls: list[float] = field(default_factory=list)  # wall time of each call
    # (wall time, people shopping) read from the room's own state during the run
    shopping_samples: list[tuple[float, int]] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "settings": self.settings,
            "visits": [asdict(v) for v in self.visits],
            "inventory_calls": self.inventory_calls,
            "shopping_samples": self.shopping_samples,
        }
        path.write_text(json.dumps(data))

    @classmethod
    def read_all(cls, paths: list[Path]) -> Records | None:
        merged: Records | None = None
        for path in paths:
            data = json.loads(path.read_text())
            if merged is None:
                merged = cls(data["settings"])
            merged.visits += [Visit(**v) for v in data["visits"]]
            merged.inventory_calls += data["inventory_calls"]
            merged.shopping_samples += [tuple(x) for x in data.get("shopping_samples", [])]
        return merged


def admission_claims(token: str) -> dict[str, Any]:
    """The claims of an admission token, unverified (the load test only reads them)."""
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return claims


def sequence_of(jti: str) -> int:
    """Admissions are numbered in the order the room made them: `<epoch>-<n>`."""
    return int(jti.rsplit("-", 1)[1])


def kendall_tau(order: list[int]) -> float:
    """Rank agreement of a sequence with its sorted self: 1 in order, -1 reversed, ~0 random."""
    n = len(order)
    if n < 2:
        return 1.0
    concordant = discordant = 0
    for i in range(n):
        for j in range(i + 1, n):
            if order[i] < order[j]:
                concordant += 1
            elif order[i] > order[j]:
                discordant += 1
    return (concordant - discordant) / (n * (n - 1) / 2)


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best


def per_window(times: list[float], window_s: float) -> int:
    """The most events in any window of `window_s` seconds."""
    times = sorted(times)
    best = start = 0
    for end, at in enumerate(times):
        while times[start] <= at - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def report(records: Records) -> dict[str, Any]:
    settings = records.settings
    rate = int(settings["admission_per_minute"])
    opens = datetime.fromisoformat(settings["opens_at"]).timestamp()
    shopping_s = int(settings["shopping_minutes"]) * 60
    admitted = [v for v in records.visits if v.admitted_seq is not None]
    times = [v.admitted_at for v in admitted if v.admitted_at is not None]
    first, last = (min(times), max(times)) if times else (0.0, 0.0)
    span_min = max((last - first) / 60, 1 / 60)
    shopping = [
        (v.admitted_at, v.left_at if v.left_at is not None else v.admitted_at + shopping_s)
        for v in admitted
        if v.admitted_at is not None
    ]
    calls = sorted(records.inventory_calls)
    burst = [t for t in calls if t >= opens]
    burst_s = (burst[-1] - burst[0]) if len(burst) > 1 else 0.0
    result: dict[str, Any] = {
        "customers": len(records.visits),
        "arrived_before_opening": sum(1 for v in records.visits if v.early),
        "admitted": len(admitted),
        "booked": sum(1 for v in records.visits if v.outcome == "booked"),
        "still_waiting_at_end": sum(1 for v in records.visits if v.admitted_seq is None),
        "configured_per_minute": rate,
        "max_shoppers": int(settings["max_shoppers"]),
        "admitted_per_minute_mean": round(len(times) / span_min, 1) if times else 0.0,
        "admitted_in_busiest_minute": per_window(times, 60.0) if times else 0,
        "admitted_in_busiest_second": per_window(times, 1.0) if times else 0,
        # The room's own count (sampled from its state) when the run could read it; else from
        # the customers' records (admission to booking, leaving or the end of their time).
        "most_shopping_at_once": (
            max(count for _, count in records.shopping_samples)
            if records.shopping_samples
            else max_overlap(shopping)
        ),
        "most_shopping_measured_by": "the room's state"
        if records.shopping_samples
        else "the customers' records",
        "inventory_requests": len(burst),
        "inventory_requests_per_s_mean": round(len(burst) / burst_s, 1) if burst_s else 0.0,
        "inventory_requests_per_s_peak": per_window(burst, 1.0) if burst else 0,
        "polls_per_customer_mean": round(
            sum(v.polls for v in records.visits) / max(len(records.visits), 1), 1
        ),
    }
    for label, early in (("after_opening", False), ("before_opening", True)):
        group = sorted((v for v in admitted if v.early is early), key=lambda v: v.arrived_at)
        order = [v.admitted_seq for v in group if v.admitted_seq is not None]
        ranks = {seq: rank for rank, seq in enumerate(sorted(order))}
        displacement = [abs(ranks[seq] - i) for i, seq in enumerate(order)]
        result[f"order_{label}"] = {
            "admitted": len(order),
            "kendall_tau": round(kendall_tau(order), 3),
            "in_arrival_order": round(
                sum(1 for a, b in itertools.pairwise(order) if a < b) / max(len(order) - 1, 1),
                3,
            ),
            "max_displacement": max(displacement, default=0),
        }
    return result


def describe(found: dict[str, Any]) -> str:
    after, before = found["order_after_opening"], found["order_before_opening"]
    return "\n".join(
        [
            f"waiting room: {found['customers']} customers ({found['arrived_before_opening']} "
            f"before the opening), {found['admitted']} admitted, {found['booked']} booked, "
            f"{found['still_waiting_at_end']} still waiting at the end",
            f"  admitted per minute: {found['admitted_per_minute_mean']} on average, "
            f"{found['admitted_in_busiest_minute']} in the busiest 60 s, "
            f"{found['admitted_in_busiest_second']} in the busiest second "
            f"(configured: {found['configured_per_minute']} a minute)",
            f"  most shopping at once: {found['most_shopping_at_once']} "
            f"(max_shoppers {found['max_shoppers']}; {found['most_shopping_measured_by']})",
            f"  inventory during the burst: {found['inventory_requests']} requests, "
            f"{found['inventory_requests_per_s_mean']}/s on average, "
            f"{found['inventory_requests_per_s_peak']} in the busiest second",
            f"  admission vs arrival order, after the opening: Kendall tau {after['kendall_tau']} "
            f"over {after['admitted']} ({after['in_arrival_order']:.0%} of neighbours in order, "
            f"max displacement {after['max_displacement']}); before it (a random draw): "
            f"tau {before['kendall_tau']} over {before['admitted']}",
            f"  polls per customer: {found['polls_per_customer_mean']}",
        ]
    )


def record_paths(csv_prefix: str) -> list[Path]:
    prefix = Path(csv_prefix)
    return sorted(prefix.parent.glob(f"{prefix.name}_room-*.json"))


def summarize(csv_prefix: str) -> dict[str, Any] | None:
    records = Records.read_all(record_paths(csv_prefix))
    if records is None or not records.visits:
        return None
    found = report(records)
    Path(f"{csv_prefix}_room.json").write_text(json.dumps(found, indent=2))
    print(describe(found), flush=True)
    return found
