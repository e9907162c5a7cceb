"""What tracing costs the gateway: the gateway benchmark (run.py, through ../shared/bench/ratio,
with its bare-ASGI hello baseline in the same run) once per tracing setting, back to back.

    uv run python services/api-gateway/bench/tracing.py [--runs 1] [--seconds 8]

Settings: off; OpenTelemetry at the production sample rate (5 %); OpenTelemetry with every
request sampled (the worst case: every request exported); aws-xray-sdk with every request
sampled. Spans go where production sends them: OTLP/HTTP to a collector, UDP to a daemon —
here a sink in this process, pinned to core 0 beside wrk, that counts what it receives (the
gateway, on core 1, pays for building and exporting the spans, as it would beside the ADOT
sidecar). Prints each run's lines from run.py, then one table.
"""

from __future__ import annotations

import argparse
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=8)
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
            "aws-xray-sdk, every request sampled",
            {"XRAY_DAEMON_ADDRESS": sink.daemon_address, "TRACE_SAMPLE_RATE": "1.0"},
        ),
    ]
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
