"""`make dev` and `make smoke` together, as CI runs them: the dev runner brings the whole stack up
on its normal ports, the smoke test books two seats end to end through the gateway, the gateway
documents the whole public API, a service SIGKILLed is started again by the runner, the web app's
browser tests (Playwright in Debian's Chromium, frontend/e2e) use it as customers do, and Ctrl-C
stops all of it, leaving no port in use.

It needs the stack's ports (8000-8007, 8010, 1025, 8025, 5173). Where something holds them (a
developer's own `make dev`), it is skipped, except in CI, where that is a failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from ticketing_devkit import smoke
from ticketing_devkit.dev import busy_ports
from ticketing_devkit.processes import listening_pid
from ticketing_devkit.stack import (
    DYNAMODB_PORT,
    MAIL_SMTP_PORT,
    MAIL_WEB_PORT,
    ROOT,
    WEB_PORT,
    discover,
)

PORTS = sorted(
    [spec.dev_port for spec in discover()]
    + [MAIL_SMTP_PORT, MAIL_WEB_PORT, DYNAMODB_PORT, WEB_PORT]
)
SYNC_TIMEOUT_S = 600
STARTUP_TIMEOUT_S = 300  # a loaded 2-core machine; the web app builds meanwhile
STOP_TIMEOUT_S = 60
BROWSER_TESTS_TIMEOUT_S = 900
CHROMIUM = "/usr/bin/chromium"


def _tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_up(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while "the stack is up" not in log.read_text(errors="replace"):
        if process.poll() is not None:
            pytest.fail(f"make dev exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"make dev was not up within {STARTUP_TIMEOUT_S} s:\n{_tail(log)}")
        time.sleep(0.5)


def _browser_tests(log: Path) -> None:
    """frontend/e2e against the running stack; their output is the report. They leave the tree
    clean: the README's screenshots are rewritten only with SCREENSHOTS=1."""
    frontend = ROOT / "frontend"
    if not (frontend / "node_modules" / ".bin" / "playwright").exists():
        pytest.fail("the web app's Node dependencies are missing (make dev installs them)")
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium): no browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        print(reason)
        return
    started = time.monotonic()
    result = subprocess.run(
        ["npx", "playwright", "test"],
        cwd=frontend,
        capture_output=True,
        text=True,
        timeout=BROWSER_TESTS_TIMEOUT_S,
        env={**os.environ, "CHROMIUM_PATH": CHROMIUM},
    )
    print(result.stdout[-6000:], result.stderr[-2000:])
    print(f"browser tests took {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, (
        f"browser tests failed:\n{result.stdout[-6000:]}\nmake dev's log:\n{_tail(log)}"
    )


def _public_api_is_documented_at_the_gateway() -> None:
    """/openapi.json at the gateway is the whole public API, merged from the services."""
    paths = httpx.get("http://127.0.0.1:8000/openapi.json", timeout=30).json()["paths"]
    for prefix in ("/api/v1/auth", "/api/v1/events", "/api/v1/inventory", "/api/v1/bookings"):
        assert any(path.startswith(prefix) for path in paths), (prefix, sorted(paths))
    assert not [path for path in paths if path.startswith("/internal")]


def _the_edge_opens_what_the_services_declare_anonymous() -> None:
    """The gateway learnt from each service's document which routes need no token."""
    gateway = "http://127.0.0.1:8000"
    for path in ("/api/v1/events", "/api/v1/bookings/tickets/public-key", "/api/v1/search/events"):
        assert httpx.get(f"{gateway}{path}", timeout=30).status_code == 200, path
    assert httpx.get(f"{gateway}/api/v1/bookings", timeout=30).status_code == 401


def _a_killed_service_comes_back(log: Path) -> None:
    """make dev starts a service again when it dies, and says so."""
    search = next(spec for spec in discover() if spec.name == "search")
    pid = listening_pid(search.dev_port)
    assert pid is not None, f"nothing listens on {search.dev_port}"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while "search is back" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"search never came back:\n{_tail(log)}"
        time.sleep(0.2)
    assert "search exited (signal SIGKILL); restarting it in 1 s" in log.read_text()
    assert httpx.get(f"{search.dev_url}/health", timeout=5).status_code == 200


def test_make_dev_books_seats_end_to_end_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if busy := busy_ports(PORTS):
        reason = f"ports {busy} are in use (a running `make dev`?); this test needs them"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    # What `make dev` does first: the workspace virtualenv with every service in it.
    subprocess.run(["make", "-C", str(ROOT), "sync"], check=True, timeout=SYNC_TIMEOUT_S)
    log = tmp_path / "dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "ticketing_devkit.dev", "up"],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        _wait_until_up(process, log)
        status = smoke.main(["--timeout", "30"])
        report = capsys.readouterr().out
        print(report)
        assert status == 0, f"{report}\nmake dev's log:\n{_tail(log)}"
        assert "smoke: passed (14 steps" in report
        _public_api_is_documented_at_the_gateway()
        _the_edge_opens_what_the_services_declare_anonymous()
        _a_killed_service_comes_back(log)
        _the_edge_opens_what_the_services_declare_anonymous()  # search's routes still open
        _browser_tests(log)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, _tail(log)
    assert "[dev]\x1b[0m stopped at" in log.read_text()
    assert busy_ports(PORTS) == [], f"still listening after Ctrl-C:\n{_tail(log)}"
