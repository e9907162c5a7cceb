"""What tracing costs the gateway: the gateway benchmark (run.py, through ../shared/bench/ratio,
with its bare-ASGI hello baseline in the same run) once per tracing setting, back to back.

    uv run python services/api-gateway/bench/tracing.py [--runs 1] [--seconds 8]

Settings: off; OpenTelemetry at the production sample rate (5 %) and with every request sampled
(the worst case: every request exported); aws-xray-sdk the same two ways. Spans go where
production sends them: OTLP/HTTP to a collector, UDP to a daemon. Here that is a sink in this
process, pinned to core 0 beside wrk, counting what it receives (the gateway, on core 1, pays for
building and exporting the spans, as it would beside the ADOT
sidecar). Prints each run's lines from run.py, then one table.

Throughput on a shared 2-core machine swings with whatever else runs, even as a ratio; so the
script also measures what tracing adds in CPU time per request, which load hardly moves: the
tracing middleware around a trivial ASGI app, driven in-process (`--requests` calls per
setting), `time.process_time()` over all threads (the exporter's included), minus the same
calls with tracing off.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ticketing_common.settings import ServiceSettings
from ticketing_common.tracing import TracingMiddleware, configure, outgoing_trace_header

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
RATIO = REPO_ROOT.parent / "shared" / "bench" / "ratio"
LINE = re.compile(
    r"run \d+ \| (?P<label>[^:]+): (?P<rps>[\d,]+) req/s, p99 (?P<p99>\S+), ratio (?P<ratio>[\d.]+)"
)
HELLO = re.compile(r"baseline hello.*?([\d.]+) req/s")


class Sink:
    """Accepts OTLP/HTTP exports (POST /v1/traces) and X-Ray daemon datagrams; counts them."""

    def __init__(self) -> None:
        self.exports = 0
        self.export_bytes = 0
        self.datagrams = 0
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                sink.exports += 1
                sink.export_bytes += length
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            self.udp.recv(65536)
            self.datagrams += 1

    @property
    def otlp_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    @property
    def daemon_address(self) -> str:
        return f"127.0.0.1:{self.udp.getsockname()[1]}"


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    outgoing_trace_header()  # what the proxy asks for each forwarded request
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _cpu_per_request(env: dict[str, str], requests: int) -> float:
    """CPU microseconds per request through the tracing middleware (or none, when off)."""
    settings = ServiceSettings(
        service_name="api-gateway",
        otel_exporter_otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        xray_daemon_address=env.get("XRAY_DAEMON_ADDRESS"),
        trace_sample_rate=float(env.get("TRACE_SAMPLE_RATE", "0.05")),
    )
    tracing = configure(settings)
    app: Any = _hello
    if tracing is not None:
        await tracing.start()
        app = TracingMiddleware(_hello, tracing=tracing)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/events/evt-1",
        "headers": [(b"x-amzn-trace-id", b"Root=1-5759e988-bd862e3fe1be46a994272793")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    for _ in range(1000):  # warm up
        await app(scope, receive, send)
    started = time.process_time()
    for _ in range(requests):
        await app(scope, receive, send)
    if tracing is not None:
        await tracing.stop()  # the export of what is still queued is part of the cost
    return (time.process_time() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--cpu-only", action="store_true", help="skip the wrk runs")
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})  # the sink's threads beside wrk, off the gateway's core
    sink = Sink()
    settings: list[tuple[str, dict[str, str]]] = [
        ("off", {}),
        (
            "OpenTelemetry, 5 % sampled",
            {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.otlp_url, "TRACE_SAMPLE_RATE": "0.05"},
        ),
        (
            "OpenTelemetry, every request sampled",
            {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.otlp_url, "TRACE_SAMPLE_RATE": "1.0"},
        ),
        (
            "aws-xray-sdk, 5 % sampled",
            {"XRAY_DAEMON_ADDRESS": sink.daemon_address, "TRACE_SAMPLE_RATE": "0.05"},
        ),
        (
            "aws-xray-sdk, every request sampled",
            {"XRAY_DAEMON_ADDRESS": sink.daemon_address, "TRACE_SAMPLE_RATE": "1.0"},
        ),
    ]
    print("CPU per request in the tracing middleware (in-process, core 0):", flush=True)
    cpu = {name: asyncio.run(_cpu_per_request(env, args.requests)) for name, env in settings}
    for name, micros in cpu.items():
        print(f"   {name}: {micros:.1f} µs ({micros - cpu['off']:+.1f} µs over off)", flush=True)
    if args.cpu_only:
        return
    rows = []
    for name, env in settings:
        before = (sink.exports, sink.export_bytes, sink.datagrams)
        print(f"== tracing: {name}", flush=True)
        clean = {
            k: v
            for k, v in os.environ.items()
            if k not in {"OTEL_EXPORTER_OTLP_ENDPOINT", "XRAY_DAEMON_ADDRESS", "TRACE_SAMPLE_RATE"}
        }
        result = subprocess.run(  # noqa: S603 - our interpreter, our script
            [
                sys.executable,
                str(HERE / "run.py"),
                "--runs",
                str(args.runs),
                "--seconds",
                str(args.seconds),
                "--skip-many-clients",
            ],
            env={**clean, **env, "RATIO": str(RATIO)},
            capture_output=True,
            text=True,
            check=True,
        )
        print(result.stdout, flush=True)
        hellos = HELLO.findall(result.stdout)
        for index, match in enumerate(LINE.finditer(result.stdout)):
            rows.append(
                (
                    name,
                    match["label"],
                    match["rps"],
                    match["p99"],
                    match["ratio"],
                    hellos[index] if index < len(hellos) else "?",
                )
            )
        exported = (
            sink.exports - before[0],
            (sink.export_bytes - before[1]) // 1024,
            sink.datagrams - before[2],
        )
        print(
            f"   received: {exported[0]} OTLP exports ({exported[1]} KiB), "
            f"{exported[2]} X-Ray datagrams",
            flush=True,
        )
    print("\n| tracing | scenario | req/s | p99 | ratio | hello req/s (same run) |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
