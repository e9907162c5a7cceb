"""One short, real, headless Locust run (`ticketing-loadtest run`: setup step, locustfile, SLO
verdict, correctness check) against a small local stand-in of the platform."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_platform import Platform, serve
from ticketing_devkit.processes import free_port

SUGGEST = "GET api/v1/search/suggest"


@pytest.fixture
def platform() -> Iterator[tuple[Platform, str]]:
    platform = Platform()
    server = serve(platform)
    try:
        yield platform, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def stats(prefix: Path) -> dict[str, dict[str, str]]:
    with Path(f"{prefix}_stats.csv").open(newline="") as file:
        return {row["Name"]: row for row in csv.DictReader(file)}


def test_a_short_run_counts_5xx_as_failures_409_as_answers_and_judges_them(
    platform: tuple[Platform, str], tmp_path: Path
) -> None:
    fake, url = platform
    fake.fail_every[SUGGEST] = 4  # a quarter of the suggestions fail with 500
    fake.contest_every = 2  # every other hold: someone was faster (409)
    thresholds = tmp_path / "slo.toml"
    thresholds.write_text(
        "[run]\nmin_requests = 20\n[default]\nmax_error_ratio = 0.01\np95_ms = 5000\n"
        "p99_ms = 5000\n"
    )
    result = subprocess.run(
        [
            *(sys.executable, "-m", "ticketing_loadtest", "--gateway", url, "--dir", str(tmp_path)),
            *("run", "-u", "8", "-r", "8", "-t", "8s", "--accounts", "8", "--settle", "2"),
            *("--csv", str(tmp_path / "run"), "--slo", str(thresholds)),
            *("--inventory-url", url, "--booking-url", url, "--payment-url", url),
            # No gateway Redis here: the room's count of shoppers comes from the customers.
            *("--room-redis-url", f"redis://127.0.0.1:{free_port()}/0"),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    out = result.stdout + result.stderr
    rows = stats(tmp_path / "run")

    # Every simulated user logged in once, with an account the setup step registered.
    assert int(rows["[login] /api/v1/auth/login"]["Request Count"]) == 8
    assert len([email for email in fake.users if "loadtest" in email]) == 8
    # The crowd bought at the burst event: hold, book, pay, confirmation, tickets.
    for name in ("holds", "bookings", "payments/[id]/simulate", "bookings/[id]/tickets"):
        assert any(n.startswith("[onsale]") and n.endswith(name) for n in rows), (name, rows)
    # Locust's failures are the server's 500s (less any answer still in flight when the run
    # ended: at most one per user); the 409s on contested holds are no failures.
    failures = int(rows["[search] /api/v1/search/suggest"]["Failure Count"])
    answered_500 = fake.answers[(SUGGEST, 500)]
    assert 0 < failures <= answered_500
    assert answered_500 - failures <= 8
    holds = [row for name, row in rows.items() if "/holds" in name and "DELETE" not in row["Type"]]
    contested = [row for name, row in rows.items() if name.endswith("/holds (409 contested)")]
    answered_409 = sum(n for (route, status), n in fake.answers.items() if status == 409)
    assert answered_409 > 0
    assert 0 < sum(int(row["Request Count"]) for row in contested) <= answered_409
    assert sum(int(row["Failure Count"]) for row in holds) == 0
    # The burst went through the event's waiting room: joined, admitted, shopped with the token
    # (nothing refused for the lack of one), and the run reports it.
    burst = json.loads((tmp_path / "fixture.json").read_text())["events"]["burst"]
    assert burst in fake.rooms
    assert fake.admitted
    assert fake.refused_without_admission == 0
    assert "[room] /api/v1/waiting-room/[id]/join" in rows
    report = json.loads((tmp_path / "run_room.json").read_text())
    assert report["admitted"] == len(fake.admitted)
    assert report["most_shopping_measured_by"] == "the customers' records"
    assert "waiting room:" in out
    # The verdict fails on the search flow's errors; the correctness check passes; exit 1.
    assert re.search(r"^search\s+error ratio .* FAIL", out, re.MULTILINE), out
    assert "SLO verdict: FAIL" in out, out
    assert "correctness: PASS (2 events, 0 violations)" in out, out
    assert result.returncode == 1, out


def test_runs_are_bounded_and_local_only(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ticketing_loadtest", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    remote = run("--gateway", "http://192.0.2.10:8000", "slo", str(tmp_path / "x"))
    assert remote.returncode != 0
    assert "loopback addresses only" in remote.stderr
    huge = run("--dir", str(tmp_path), "run", "-u", "100000", "-t", "10s", "--skip-prepare")
    assert huge.returncode != 0
    assert "runs are bounded" in huge.stderr
    endless = run("--dir", str(tmp_path), "run", "-u", "10", "-t", "5h", "--skip-prepare")
    assert endless.returncode != 0
    assert "runs are bounded" in endless.stderr
