"""The SLO verdict: reading Locust's stats CSV and judging it against the thresholds file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from ticketing_loadtest import slo
from ticketing_loadtest.cli import DEFAULT_SLO, run_slo

# Locust 2.x's `_stats.csv` header, as written by `--csv`.
HEADER = (
    '"Type","Name","Request Count","Failure Count","Median Response Time",'
    '"Average Response Time","Min Response Time","Max Response Time","Average Content Size",'
    '"Requests/s","Failures/s","50%","66%","75%","80%","90%","95%","98%","99%","99.9%",'
    '"99.99%","100%"'
)


def line(method: str, name: str, requests: int, failures: int, p95: str, p99: str) -> str:
    return (
        f'"{method}","{name}","{requests}","{failures}","10","12.5","1","900","120","3.2","0.0",'
        f'"10","11","12","13","20","{p95}","60","{p99}","300","900","900"'
    )


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "run_stats.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


ROWS = (
    line("GET", "[browse] /api/v1/events", 900, 0, "40", "90"),
    line("GET", "[browse] /api/v1/events/[id]", 1800, 9, "30", "250"),
    line("POST", "[purchase] /api/v1/inventory/events/[id]/holds", 100, 0, "20", "40"),
    line("POST", "[purchase] /api/v1/bookings", 80, 1, "700", "1900"),
    line("GET", "/health", 10, 0, "N/A", "N/A"),
    '"","Aggregated","2890","10","10","12.5","1","900","120","3.2","0.0","10","11","12","13",'
    '"20","700","60","1900","300","900","900"',
)


def test_reads_request_rows_and_leaves_out_the_aggregate(tmp_path: Path) -> None:
    rows = slo.read_stats(write(tmp_path, *ROWS))
    assert [row.flow for row in rows] == ["browse", "browse", "purchase", "purchase", "other"]
    assert rows[1] == slo.Row("GET", "[browse] /api/v1/events/[id]", 1800, 9, 30.0, 250.0)
    assert rows[4].p95_ms == 0.0  # N/A: no answers


def test_refuses_what_is_not_a_locust_stats_csv(tmp_path: Path) -> None:
    with pytest.raises(slo.UnusableStats, match="does not exist"):
        slo.read_stats(tmp_path / "missing.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(slo.UnusableStats, match="not a Locust stats CSV"):
        slo.read_stats(other)
    broken = write(tmp_path, line("GET", "[x] /", 10, 0, "1", "2").replace('"10"', '"ten"', 1))
    with pytest.raises(slo.UnusableStats, match="bad row"):
        slo.read_stats(broken)


def test_thresholds_inherit_the_default_and_refuse_unknown_keys() -> None:
    thresholds = slo.parse_thresholds(
        {
            "run": {"min_requests": 100},
            "default": {"p95_ms": 500, "max_error_ratio": 0.02},
            "flows": {"purchase": {"p99_ms": 2000}},
        }
    )
    purchase = thresholds.for_flow("purchase")
    assert (purchase.p95_ms, purchase.p99_ms, purchase.max_error_ratio) == (500, 2000, 0.02)
    assert thresholds.for_flow("browse") == thresholds.default
    assert thresholds.run.min_requests == 100
    assert math.isinf(thresholds.run.p95_ms)
    with pytest.raises(ValueError, match="unknown SLO keys"):
        slo.parse_thresholds({"default": {"p95": 500}})
    with pytest.raises(ValueError, match="unknown SLO sections"):
        slo.parse_thresholds({"flow": {}})


def verdict_of(tmp_path: Path, document: dict[str, object]) -> list[slo.Check]:
    return slo.verdict(slo.read_stats(write(tmp_path, *ROWS)), slo.parse_thresholds(document))


def failed(checks: list[slo.Check]) -> set[tuple[str, str]]:
    return {(c.subject, c.what) for c in checks if not c.passed}


def test_error_ratio_is_the_flows_failures_over_its_requests(tmp_path: Path) -> None:
    # browse: 9 failures in 2,700 requests = 0.33 %; purchase: 1 in 180 = 0.56 %.
    checks = verdict_of(tmp_path, {"default": {"max_error_ratio": 0.005}})
    assert failed(checks) == {("purchase", "error ratio")}
    browse = next(c for c in checks if (c.subject, c.what) == ("browse", "error ratio"))
    assert browse.measured == pytest.approx(9 / 2700)
    run = next(c for c in checks if (c.subject, c.what) == ("run", "error ratio"))
    assert run.measured == pytest.approx(10 / 2890)


def test_latency_is_judged_on_the_flows_slowest_request(tmp_path: Path) -> None:
    checks = verdict_of(
        tmp_path, {"default": {"p95_ms": 500, "p99_ms": 2000}, "flows": {"browse": {"p99_ms": 200}}}
    )
    assert failed(checks) == {("purchase", "p95"), ("browse", "p99")}
    p99 = next(c for c in checks if (c.subject, c.what) == ("browse", "p99"))
    assert (p99.measured, p99.detail) == (250.0, "GET [browse] /api/v1/events/[id]")
    assert slo.passed(verdict_of(tmp_path, {"default": {"p95_ms": 700, "p99_ms": 1900}}))


def test_a_run_too_small_or_missing_a_required_flow_fails(tmp_path: Path) -> None:
    assert failed(verdict_of(tmp_path, {"run": {"min_requests": 5000}})) == {("run", "requests")}
    checks = verdict_of(tmp_path, {"flows": {"onsale": {"min_requests": 1}}})
    assert failed(checks) == {("onsale", "requests")}


def test_the_command_exits_0_pass_1_fail_2_unusable(tmp_path: Path) -> None:
    write(tmp_path, *ROWS)
    lenient = tmp_path / "lenient.toml"
    lenient.write_text("[default]\np95_ms = 1000\np99_ms = 2000\nmax_error_ratio = 0.01\n")
    strict = tmp_path / "strict.toml"
    strict.write_text("[flows.browse]\np95_ms = 10\n")
    assert run_slo(str(tmp_path / "run"), lenient) == 0
    assert run_slo(str(tmp_path / "run"), strict) == 1
    assert run_slo(str(tmp_path / "nothing"), lenient) == 2


def test_the_shipped_thresholds_file_parses() -> None:
    thresholds = slo.load_thresholds(DEFAULT_SLO)
    assert thresholds.run.min_requests > 0
    assert {"browse", "search", "purchase", "onsale", "login"} <= set(thresholds.flows)
