"""Proxied requests per second through the gateway, measured with ../shared/bench/ratio (beside
the repository root; ticketing_devkit.bench finds it).

    uv run python services/api-gateway/bench/run.py [--runs 3] [--seconds 8] [--connections 64]

The gateway runs pinned to core 1 by `ratio` with everything on: JWT verification at the edge,
rate limiting (leases from Redis; the limits are set high so every request is admitted and the
admitted path is what gets measured), one JSON access log line per request. The trivial upstream
(bench/upstream.py, uvicorn) runs pinned to core 0 beside wrk. Two scenarios: an anonymous GET
on a public route and an authenticated GET on a protected route. Prints each run's figures, the
ratio against the bare-ASGI hello-world and how far above the seed's 2,000 req/s per vCPU the
gateway is (it runs on exactly one core).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from pathlib import Path

from ticketing_devkit.bench import RatioResult, run_ratio
from ticketing_devkit.processes import free_port, uvicorn_command, wait_until_healthy
from ticketing_devkit.stores import temporary_redis_db
from ticketing_devkit.tokens import FakeIssuer

HERE = Path(__file__).resolve().parent
SEED_RPS_PER_VCPU = 2000
GATEWAY_APP = "ticketing_api_gateway.main:create_app"
PREFIXES = (
    "/api/v1/auth",
    "/api/v1/events",
    "/api/v1/venues",
    "/api/v1/inventory",
    "/api/v1/bookings",
    "/api/v1/payments",
    "/api/v1/search",
    "/api/v1/notifications",
)
UNLIMITED = {"rate": 1_000_000, "burst": 1_000_000}
CLIENT_HEADERS = [
    "User-Agent: ticketing-bench/1.0",
    "Accept: application/json",
    "Accept-Encoding: gzip, deflate",
]
# wrk script: each request from the next of 10,000 client addresses (the gateway trusts one proxy
# hop, as behind a load balancer).
MANY_CLIENTS_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local n = counter % 10000
  wrk.headers["X-Forwarded-For"] = "10.0." .. math.floor(n / 250) .. "." .. (n % 250 + 1)
  return wrk.format()
end
"""


def signing_material() -> tuple[str, str]:
    issuer = FakeIssuer("bench")
    return json.dumps(issuer.jwks()), issuer.token("bench-user", ttl_s=3600)


def ratio(
    gateway_port: int, path: str, headers: list[str], seconds: int, conns: int
) -> RatioResult:
    return run_ratio(
        server=uvicorn_command(GATEWAY_APP, gateway_port),
        port=gateway_port,
        path=path,
        seconds=seconds,
        connections=conns,
        headers=headers,
    )


def many_clients(seconds: int, conns: int) -> tuple[float, str]:
    """req/s and p99 of anonymous GETs from 10,000 addresses under the default limits."""
    port = free_port()
    env = {**os.environ, "TRUSTED_PROXY_HOPS": "1"}
    env.pop("RATE_LIMITS")  # the production defaults
    gateway = subprocess.Popen(  # noqa: S603 - taskset, our interpreter, our arguments
        ["/usr/bin/taskset", "-c", "1", *uvicorn_command(GATEWAY_APP, port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    script = Path(f"/tmp/gateway-bench-{port}.lua")  # noqa: S108 - wrk reads its script from a file
    script.write_text(MANY_CLIENTS_LUA)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/health", 30, gateway)
        wrk = ["/usr/bin/taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", "--latency", "-s"]
        headers = [part for header in CLIENT_HEADERS for part in ("-H", header)]
        url = f"http://127.0.0.1:{port}/api/v1/events/evt-1"
        subprocess.run([*wrk, str(script), "-d2s", *headers, url], capture_output=True, check=True)  # noqa: S603
        out = subprocess.run(  # noqa: S603
            [*wrk, str(script), f"-d{seconds}s", *headers, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        script.unlink()
        gateway.terminate()
        gateway.wait(10)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    errors = " ".join(re.findall(r"(Non-2xx.*|Socket errors.*)", out))
    if rps is None or p99 is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    return float(rps.group(1)), f"p99 {p99.group(1)} {errors}".strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--skip-many-clients", action="store_true")
    args = parser.parse_args()

    jwks, token = signing_material()
    upstream_port = free_port()
    upstream = subprocess.Popen(  # noqa: S603 - taskset, our interpreter, our arguments
        ["/usr/bin/taskset", "-c", "0", *uvicorn_command("upstream:create_app", upstream_port)],
        cwd=HERE,
        env={**os.environ, "BENCH_JWKS": jwks},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    try:
        wait_until_healthy(f"{upstream_url}/jwks", 30, upstream)
        with temporary_redis_db() as redis_url:
            os.environ.update(
                {
                    "ENVIRONMENT": "test",
                    "LOG_LEVEL": "INFO",
                    "GATEWAY_ROUTES": json.dumps(dict.fromkeys(PREFIXES, upstream_url)),
                    "JWKS_URL": f"{upstream_url}/jwks",
                    "REDIS_URL": redis_url,
                    "RATE_LIMITS": json.dumps(
                        {"default": {"anonymous": UNLIMITED, "user": UNLIMITED}}
                    ),
                }
            )
            scenarios = [
                ("anonymous GET (public route)", "/api/v1/events/evt-1", CLIENT_HEADERS),
                (
                    "authenticated GET (protected route, JWT verified)",
                    "/api/v1/bookings/bk-1",
                    [*CLIENT_HEADERS, f"Authorization: Bearer {token}"],
                ),
            ]
            baseline = 0.0
            for run in range(1, args.runs + 1):
                for label, path, headers in scenarios:
                    result = ratio(free_port(), path, headers, args.seconds, args.connections)
                    baseline = result.hello_rps
                    print(
                        f"run {run} | {label}: {result.line()}, "
                        f"{result.rps / SEED_RPS_PER_VCPU:.2f}x the seed's "
                        f"{SEED_RPS_PER_VCPU} req/s per vCPU",
                        flush=True,
                    )
                    print("    " + result.output.strip().replace("\n", "\n    "), flush=True)
                if not args.skip_many_clients:
                    rps, latency = many_clients(args.seconds, args.connections)
                    print(
                        f"run {run} | anonymous GET from 10,000 addresses, default limits: "
                        f"{rps:,.0f} req/s, {latency}, ratio ~{rps / baseline:.3f} (against the "
                        f"hello baseline above), {rps / SEED_RPS_PER_VCPU:.2f}x the seed's "
                        f"{SEED_RPS_PER_VCPU} req/s per vCPU",
                        flush=True,
                    )
    finally:
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    main()
