"""What every benchmark script here shares: `../shared/bench/ratio` found relative to the
repository root, its one fixed baseline port, its output parsed, and the CPU time the server
under test spends while wrk measures it.

The machines are shared and have two cores, so every figure is read beside the bare-ASGI
hello-world measured on the same core in the same run (ratio does that), and as requests per
CPU-second of the server (a server that waits on peers sharing the other core is not at 100 % of
its own, so its req/s alone would understate what one core of it serves).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ticketing_devkit.processes import free_port, stop_process, uvicorn_command, wait_until_healthy
from ticketing_devkit.stack import ROOT

BENCH = ROOT.parent / "shared" / "bench"  # ../shared/bench beside the repository root
RATIO = BENCH / "ratio"
BASELINE_PORT = 18999  # ratio's hello-world always binds it


def ratio_path() -> Path:
    if not RATIO.exists():
        raise SystemExit(f"{RATIO} is missing: the benchmark harness sits in ../shared/bench")
    return RATIO


def port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_baseline_port() -> None:
    """Wait while another ratio run on this machine holds the baseline's port."""
    while port_taken(BASELINE_PORT):
        print("  (port 18999 busy: another ratio run; waiting)", flush=True)
        time.sleep(5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def find_process(*needles: str, unless: str = "--server") -> int | None:
    """A process whose command line has every needle (and not `unless`: ratio's own command
    line names the server's command too)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(needle in cmdline for needle in needles) and unless not in cmdline:
            return int(entry.name)
    return None


class CpuWatch(threading.Thread):
    """The CPU time the server on `port` spends while ratio's wrk measures it: waits for the wrk
    process aimed at that port, samples the server's CPU time when wrk starts and ends."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.spent: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        target = f"127.0.0.1:{self.port}/"
        server = wrk = None
        while not self.stop.is_set() and wrk is None:
            server = server or find_process("uvicorn", f"--port {self.port}")
            wrk = find_process("wrk", target) if server else None
            time.sleep(0.02)
        if server is None or wrk is None:
            return
        try:
            before = cpu_seconds(server)
            while Path(f"/proc/{wrk}").exists() and not self.stop.is_set():
                time.sleep(0.02)
            self.spent = cpu_seconds(server) - before
        except OSError:
            self.spent = None


@dataclass(frozen=True)
class RatioResult:
    rps: float  # the server under test, on core 1
    hello_rps: float  # the bare-ASGI hello-world, same core, same run
    p99: str
    errors: str  # wrk's Non-2xx / socket error lines, if any
    cpu_rps: float  # requests per CPU-second of the server (0 when not sampled)
    output: str

    @property
    def ratio(self) -> float:
        return self.rps / self.hello_rps if self.hello_rps else 0.0

    def line(self) -> str:
        cpu = f", {self.cpu_rps:,.0f} req per CPU-second" if self.cpu_rps else ""
        errors = f" [{self.errors}]" if self.errors else ""
        return (
            f"{self.rps:,.0f} req/s (hello {self.hello_rps:,.0f}, ratio {self.ratio:.3f}), "
            f"p99 {self.p99}{cpu}{errors}"
        )


def parse_ratio(out: str) -> tuple[float, float, str, str]:
    """(server req/s, hello req/s, p99, wrk's error notes) from ratio's output."""
    base = re.search(r"baseline hello.*?([\d.]+) req/s", out)
    got = re.search(r"server under test.*?([\d.]+) req/s, p99 (\S+)(.*)", out)
    if base is None or got is None:
        raise ValueError(f"unexpected ratio output:\n{out}")
    errors = got.group(3).strip().strip("[] ")
    return float(got.group(1)), float(base.group(1)), got.group(2), errors


def run_ratio(
    *,
    server: Sequence[str],
    port: int,
    path: str,
    seconds: int,
    connections: int = 64,
    method: str = "GET",
    body: str = "",
    headers: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    ready: str = "/health",
    python: str | None = None,
    attempts: int = 3,
) -> RatioResult:
    """One ratio run of the uvicorn `server` listening on `port`, with its CPU time sampled."""
    args = [
        str(ratio_path()),
        "--python",
        python or sys.executable,
        "--server",
        " ".join(server),
        "--url",
        f"http://127.0.0.1:{port}{path}",
        "--ready",
        f"http://127.0.0.1:{port}{ready}",
        "--seconds",
        str(seconds),
        "--connections",
        str(connections),
    ]
    if method != "GET":
        args += ["--method", method, "--body", body]
    for header in headers:
        args += ["--header", header]
    for attempt in range(1, attempts + 1):
        wait_for_baseline_port()
        watch = CpuWatch(port)
        watch.start()
        result = subprocess.run(  # noqa: S603 - our harness, loopback only
            args, env=dict(env) if env is not None else None, capture_output=True, text=True
        )
        watch.stop.set()
        watch.join(5)
        if result.returncode == 0 and "ratio:" in result.stdout:
            rps, hello, p99, errors = parse_ratio(result.stdout)
            cpu_rps = rps * seconds / watch.spent if watch.spent else 0.0
            return RatioResult(rps, hello, p99, errors, cpu_rps, result.stdout)
        print(f"  ratio attempt {attempt} failed: {result.stderr.strip()[-300:]}", flush=True)
        time.sleep(3)
    raise SystemExit("ratio kept failing")


@contextmanager
def asgi_on_core(app: str, core: int, cwd: str | Path) -> Iterator[str]:
    """A plain ASGI app (`module:app` in `cwd`, not a factory) under uvicorn as the services run,
    pinned to `core`, until the block ends; yields its URL."""
    port = free_port()
    command = uvicorn_command(app, port)
    command.remove("--factory")
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our app
        ["/usr/bin/taskset", "-c", str(core), *command],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/", 30, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)
