"""The SLO verdict of a headless Locust run, from its `<prefix>_stats.csv`.

Requests are named `[flow] /path`; a flow's requests are judged together:
- error ratio: the flow's failures / the flow's requests (exact: counts add up);
- p95 and p99: the worst of the flow's request rows. A flow's own percentile lies between the
  smallest and the largest percentile of its parts (a mixture's quantile cannot exceed its
  largest component's), so "every part within the limit" guarantees "the flow within the limit"
  from the CSV alone.
Limits come from a TOML file (loadtest/slo.toml): `[run]` for the whole run, `[default]` for any
flow, `[flows.<name>]` to override per flow. Exit code: 0 pass, 1 fail, 2 unusable input.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLOW_NAME = re.compile(r"^\[([^\]]+)\]\s")


@dataclass(frozen=True)
class Row:
    method: str
    name: str
    requests: int
    failures: int
    p95_ms: float
    p99_ms: float

    @property
    def flow(self) -> str:
        found = FLOW_NAME.match(self.name)
        return found.group(1) if found else "other"


@dataclass(frozen=True)
class Limits:
    p95_ms: float = math.inf
    p99_ms: float = math.inf
    max_error_ratio: float = 1.0
    min_requests: int = 0


@dataclass(frozen=True)
class Thresholds:
    run: Limits
    default: Limits
    flows: Mapping[str, Limits] = field(default_factory=dict)

    def for_flow(self, flow: str) -> Limits:
        return self.flows.get(flow, self.default)


@dataclass(frozen=True)
class Check:
    subject: str  # "run" or a flow name
    what: str  # "requests", "error ratio", "p95", "p99"
    measured: float
    limit: float
    passed: bool
    detail: str = ""


class UnusableStats(ValueError):
    """The CSV is missing, empty or not Locust's stats format."""


def _number(value: str) -> float:
    value = value.strip()
    if value in ("", "N/A"):
        return 0.0
    return float(value)


def read_stats(path: Path) -> list[Row]:
    """The request rows of Locust's `_stats.csv` (the `Aggregated` row is left out: the verdict
    adds the rows up itself)."""
    if not path.exists():
        raise UnusableStats(f"{path} does not exist")
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        needed = {"Type", "Name", "Request Count", "Failure Count", "95%", "99%"}
        if reader.fieldnames is None or not needed <= set(reader.fieldnames):
            raise UnusableStats(f"{path} is not a Locust stats CSV (columns {reader.fieldnames})")
        rows = []
        for record in reader:
            if record["Name"] == "Aggregated" and not record["Type"]:
                continue
            try:
                rows.append(
                    Row(
                        method=record["Type"],
                        name=record["Name"],
                        requests=int(record["Request Count"]),
                        failures=int(record["Failure Count"]),
                        p95_ms=_number(record["95%"]),
                        p99_ms=_number(record["99%"]),
                    )
                )
            except ValueError as exc:
                raise UnusableStats(f"{path}: bad row {record}: {exc}") from exc
    return rows


def _limits(table: Mapping[str, Any], base: Limits) -> Limits:
    unknown = set(table) - {"p95_ms", "p99_ms", "max_error_ratio", "min_requests"}
    if unknown:
        raise ValueError(f"unknown SLO keys: {sorted(unknown)}")
    return Limits(
        p95_ms=float(table.get("p95_ms", base.p95_ms)),
        p99_ms=float(table.get("p99_ms", base.p99_ms)),
        max_error_ratio=float(table.get("max_error_ratio", base.max_error_ratio)),
        min_requests=int(table.get("min_requests", base.min_requests)),
    )


def parse_thresholds(document: Mapping[str, Any]) -> Thresholds:
    unknown = set(document) - {"run", "default", "flows"}
    if unknown:
        raise ValueError(f"unknown SLO sections: {sorted(unknown)}")
    default = _limits(document.get("default", {}), Limits())
    flows = {name: _limits(table, default) for name, table in document.get("flows", {}).items()}
    return Thresholds(run=_limits(document.get("run", {}), Limits()), default=default, flows=flows)


def load_thresholds(path: Path) -> Thresholds:
    return parse_thresholds(tomllib.loads(path.read_text()))


def verdict(rows: Iterable[Row], thresholds: Thresholds) -> list[Check]:
    rows = list(rows)
    checks: list[Check] = []
    total = sum(row.requests for row in rows)
    failed = sum(row.failures for row in rows)
    run = thresholds.run
    checks.append(Check("run", "requests", total, run.min_requests, total >= run.min_requests))
    ratio = failed / total if total else 0.0
    checks.append(
        Check("run", "error ratio", ratio, run.max_error_ratio, ratio <= run.max_error_ratio)
    )
    by_flow: dict[str, list[Row]] = {}
    for row in rows:
        by_flow.setdefault(row.flow, []).append(row)
    for flow in sorted(set(by_flow) | set(thresholds.flows)):
        limits = thresholds.for_flow(flow)
        flow_rows = by_flow.get(flow, [])
        requests = sum(row.requests for row in flow_rows)
        if limits.min_requests:
            checks.append(
                Check(
                    flow, "requests", requests, limits.min_requests, requests >= limits.min_requests
                )
            )
        if not requests:
            continue
        failures = sum(row.failures for row in flow_rows)
        ratio = failures / requests
        checks.append(
            Check(
                flow, "error ratio", ratio, limits.max_error_ratio, ratio <= limits.max_error_ratio
            )
        )
        answered = [row for row in flow_rows if row.requests]
        for what, limit, percentile in (
            ("p95", limits.p95_ms, "p95_ms"),
            ("p99", limits.p99_ms, "p99_ms"),
        ):
            worst = max(answered, key=lambda row: float(getattr(row, percentile)))
            value = float(getattr(worst, percentile))
            checks.append(
                Check(flow, what, value, limit, value <= limit, f"{worst.method} {worst.name}")
            )
    return checks


def passed(checks: Iterable[Check]) -> bool:
    return all(check.passed for check in checks)


def render(checks: list[Check]) -> str:
    lines = [
        f"{'subject':<10} {'check':<12} {'measured':>12} {'limit':>12}  verdict  worst request"
    ]
    for check in checks:
        if check.what == "error ratio":
            measured, limit = f"{check.measured:.4%}", f"{check.limit:.2%}"
        elif check.what == "requests":
            measured, limit = f"{check.measured:,.0f}", f">= {check.limit:,.0f}"
        else:
            measured, limit = f"{check.measured:,.0f} ms", f"{check.limit:,.0f} ms"
        lines.append(
            f"{check.subject:<10} {check.what:<12} {measured:>12} {limit:>12}  "
            f"{'pass' if check.passed else 'FAIL':<7}  {check.detail}"
        )
    lines.append(f"SLO verdict: {'PASS' if passed(checks) else 'FAIL'}")
    return "\n".join(lines)
