"""Proxied requests per second through the gateway, measured with ../shared/bench/ratio.

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
import sys
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm
from ticketing_devkit.processes import free_port, uvicorn_command, wait_until_healthy
from ticketing_devkit.stores import temporary_redis_db

HERE = Path(__file__).resolve().parent
RATIO = Path(os.environ.get("RATIO", "/work/shared/bench/ratio"))
SEED_RPS_PER_VCPU = 2000
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


def signing_material() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    jwks = {
        "keys": [
            {**OKPAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "bench", "use": "sig"}
        ]
    }
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "ticketing-auth",
            "aud": "ticketing",
            "sub": "bench-user",
            "role": "customer",
            "iat": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
        },
        key,
        algorithm="EdDSA",
        headers={"kid": "bench"},
    )
    return json.dumps(jwks), token


def ratio(gateway_port: int, path: str, headers: list[str], seconds: int, conns: int) -> str:
    server = " ".join(uvicorn_command("ticketing_gateway.main:create_app", gateway_port)[1:])
    args = [
        str(RATIO),
        "--python",
        sys.executable,
        "--server",
        f"{sys.executable} {server}",
        "--url",
        f"http://127.0.0.1:{gateway_port}{path}",
        "--ready",
        f"http://127.0.0.1:{gateway_port}/health",
        "--seconds",
        str(seconds),
        "--connections",
        str(conns),
    ]
    for header in headers:
        args += ["--header", header]
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"ratio failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
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
                ("anonymous GET (public route)", "/api/v1/events/evt-1", []),
                (
                    "authenticated GET (protected route, JWT verified)",
                    "/api/v1/bookings/bk-1",
                    [f"Authorization: Bearer {token}"],
                ),
            ]
            for run in range(1, args.runs + 1):
                for label, path, headers in scenarios:
                    out = ratio(free_port(), path, headers, args.seconds, args.connections)
                    got = re.search(r"server under test.*?([\d.]+) req/s, p99 (\S+)(.*)", out)
                    value = re.search(r"ratio: ([\d.]+)", out)
                    if got is None or value is None:
                        raise SystemExit(f"unexpected ratio output:\n{out}")
                    rps = float(got.group(1))
                    print(
                        f"run {run} | {label}: {rps:,.0f} req/s, p99 {got.group(2)}, "
                        f"ratio {value.group(1)}, {rps / SEED_RPS_PER_VCPU:.2f}x the seed's "
                        f"{SEED_RPS_PER_VCPU} req/s per vCPU {got.group(3).strip()}",
                        flush=True,
                    )
                    print("    " + out.strip().replace("\n", "\n    "), flush=True)
    finally:
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    main()
