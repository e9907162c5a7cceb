"""Holds per second through the HTTP API on one core, next to a bare-ASGI hello-world
(`ratio`, in ../shared/bench beside the repository: server pinned to core 1, wrk on core 0).

    uv run python services/inventory/bench/holds.py [--runs 2] [--seconds 8]
        [--scenarios ...] [--variants product ...]

Scenarios (wrk repeats one body, so each is built to keep answering the same way):
  standing          201 via ratio: {"section_id": "GA", "quantity": 1} on a 1,000,000-place
                    section (one user; MAX_ACTIVE_HOLDS_PER_USER is raised for the run)
  seated-409-1k     409 via ratio: four seats another user holds, in a 1,000-seat venue; the
  seated-409-100k   script looks at every requested seat, so this is a seat hold's read path
  seated-201-100k   201, one new seat per request in a 100,000-seat venue
  seated-cycle-1k   hold a seat, then release it, round and round the venue: the same work at
  seated-cycle-100k 1,000 and at 100,000 seats (holds/s and releases/s are each half the rate)
`ratio` takes no wrk script, so the last three run wrk themselves the way ratio does: the
hello-world on core 1 first, then the server on core 1, `wrk -t1 -c64` on core 0, in one go.

Every scenario is also measured that way, with the CPU time the server spent per request (from
/proc, over the wrk run). On a machine that other work shares, requests/s swing with the
neighbours' load while CPU per request hardly moves: compare variants by it.

Variants (bench/variants.py) are the other ways of writing the hold route that were measured.
Redis is not pinned and the machine is shared: run it several times and look at every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from ticketing_common.contracts import LayoutIn
from ticketing_common.redis import RedisClient
from ticketing_devkit.processes import free_port, wait_until_healthy
from ticketing_devkit.stores import temporary_redis_db
from ticketing_devkit.tokens import FakeIssuer
from ticketing_inventory.layout import prepare_layout
from ticketing_inventory.scripts import ScriptCaller, Scripts
from ticketing_inventory.store import Inventory, Limits

HERE = Path(__file__).resolve().parent
BENCH = next(  # ../shared/bench beside the repository (from a worktree: further up)
    parent / "shared" / "bench"
    for parent in HERE.parents
    if (parent / "shared" / "bench" / "ratio").exists()
)
APPS = {
    "product": "ticketing_inventory.main:create_app",
    "router": "variants:create_app_router",
    "starlette": "variants:create_app_starlette",
    "dependencies": "variants:create_app_dependencies",
}
SCENARIOS = [
    "standing",
    "seated-409-1k",
    "seated-409-100k",
    "seated-201-100k",
    "seated-cycle-1k",
    "seated-cycle-100k",
]
SECTIONS, ROWS, PER_ROW = "ABCDEFGHIJ", 200, 50  # 10 sections x 10,000 seats
ISSUER = FakeIssuer("bench")
TOKEN = ""  # set in main(): one user's bearer token for every request


def bearer(user: str) -> str:
    return "Bearer " + ISSUER.token(user, ttl_s=7200)


def seat_id(k: int) -> str:
    section, rest = divmod(k, ROWS * PER_ROW)
    row, number = divmod(rest, PER_ROW)
    return f"{SECTIONS[section]}-{row + 1}-{number + 1}"


def venue(seats: int = 0, standing: int = 0) -> LayoutIn:
    chosen = [
        {"seat_id": seat_id(k), "section_id": seat_id(k)[0], "price_tier": "std"}
        for k in range(seats)
    ]
    places = [{"section_id": "GA", "capacity": standing, "price_tier": "ga"}] if standing else []
    return LayoutIn.model_validate({"seats": chosen, "standing": places})


async def create_event(redis_url: str, layout: LayoutIn, blocked: list[str]) -> str:
    event_id = f"bench-{uuid.uuid4().hex[:10]}"
    redis = RedisClient(redis_url)
    await redis.start()
    try:
        scripts = Scripts(redis.connection)
        limits = Limits(3_600_000, 10, 1000, 3_600_000)
        inventory = Inventory(redis.connection, scripts, ScriptCaller(), limits)
        await inventory.init_layout(event_id, prepare_layout(layout))
        if blocked:
            await inventory.hold_seats(event_id, "blocker", blocked)
    finally:
        await redis.stop()
    return event_id


def server_command(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--port",
        str(port),
        "--no-access-log",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]


def via_ratio(app: str, env: dict[str, str], event: str, body: str, seconds: int) -> str:
    port = free_port()
    args = [
        str(BENCH / "ratio"),
        "--python",
        sys.executable,
        "--server",
        " ".join(server_command(app, port)),
        "--url",
        f"http://127.0.0.1:{port}/api/v1/inventory/events/{event}/holds",
        "--method",
        "POST",
        "--body",
        body,
        "--header",
        f"Authorization: {TOKEN}",
        "--seconds",
        str(seconds),
        "--ready",
        f"http://127.0.0.1:{port}/health",
    ]
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    return (result.stdout + result.stderr).strip()


# wrk script: POST a hold on seat k, k = 0, 1, 2, ... (mod the venue); with `cycle`, every hold
# that comes back is released by the next request.
WRK_SCRIPT = """
local sections, rows, per_row, seats, cycle = "{sections}", {rows}, {per_row}, {seats}, {cycle}
local headers = {{["Authorization"] = "{token}", ["Content-Type"] = "application/json"}}
local path = "/api/v1/inventory/events/{event}/holds"
local k, pending = 0, {{}}
holds, releases, refused = 0, 0, 0
function seat(n)
  local section, rest = math.floor(n / (rows * per_row)), n % (rows * per_row)
  return sections:sub(section + 1, section + 1) .. "-" .. (math.floor(rest / per_row) + 1)
    .. "-" .. (rest % per_row + 1)
end
request = function()
  local hold_id = table.remove(pending)
  if hold_id then
    return wrk.format("DELETE", "/api/v1/inventory/holds/" .. hold_id, headers)
  end
  local body = '{{"seat_ids": ["' .. seat(k % seats) .. '"]}}'
  k = k + 1
  return wrk.format("POST", path, headers, body)
end
response = function(status, headers, body)
  if status == 201 then
    holds = holds + 1
    if cycle then table.insert(pending, string.match(body, '"hold_id":"([^"]+)"')) end
  elseif status == 204 then releases = releases + 1
  else refused = refused + 1 end
end
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function done(summary)
  local t = threads[1]
  print(string.format("holds %d releases %d refused %d seconds %.3f", t:get("holds"),
    t:get("releases"), t:get("refused"), summary.duration / 1e6))
end
"""


FIXED_BODY = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{token}"
"""


def wrk(url: str, seconds: int, script: str | None = None) -> str:
    args = ["taskset", "-c", "0", "wrk", "-t1", "-c64", f"-d{seconds}s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        if script:
            file.write(script)
            file.flush()
            args[-1:-1] = ["-s", file.name]
        result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    return result.stdout


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    rate: float  # requests/s
    cpu_us: float  # server CPU per request
    wrk_output: str


def measure(
    args: list[str],
    env: dict[str, str],
    url: str,
    ready: str,
    seconds: int,
    script: str | None = None,
    cwd: Path | None = None,
) -> Measured:
    process = subprocess.Popen(  # noqa: S603
        ["taskset", "-c", "1", *args],  # noqa: S607
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(ready, 30, process)
        before = cpu_seconds(process.pid)
        out = wrk(url, seconds, script)
        spent = cpu_seconds(process.pid) - before
    finally:
        process.terminate()
        process.wait()
    found = re.search(r"(\d+) requests in", out)
    requests = int(found.group(1)) if found else 0
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return Measured(float(rate.group(1)) if rate else 0.0, spent / max(requests, 1) * 1e6, out)


def via_own_wrk(
    app: str,
    env: dict[str, str],
    event: str,
    seconds: int,
    body: str = "",
    seats: int = 0,
    cycle: bool = False,
) -> str:
    """ratio's method plus CPU per request, with a fixed body or a wrk script (see above)."""
    hello_port = free_port()
    hello_args = server_command("hello:app", hello_port)
    hello_args.remove("--factory")
    hello_url = f"http://127.0.0.1:{hello_port}/"
    hello = measure(hello_args, env, hello_url, hello_url, seconds, cwd=BENCH)
    port = free_port()
    if body:
        script = FIXED_BODY.format(token=TOKEN, body=body)
    else:
        script = WRK_SCRIPT.format(
            sections=SECTIONS,
            rows=ROWS,
            per_row=PER_ROW,
            seats=seats,
            cycle="true" if cycle else "false",
            token=TOKEN,
            event=event,
        )
    server = measure(
        server_command(app, port),
        env,
        f"http://127.0.0.1:{port}/api/v1/inventory/events/{event}/holds",
        f"http://127.0.0.1:{port}/health",
        seconds,
        script,
    )
    out = server.wrk_output
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    lines = [
        f"baseline hello (bare ASGI, core 1): {hello.rate} req/s ({hello.cpu_us:.0f} us CPU each)",
        f"server under test (core 1):        {server.rate} req/s, p99 "
        f"{p99.group(1) if p99 else '?'} ({server.cpu_us:.0f} us CPU each)",
    ]
    counts = re.search(r"holds (\d+) releases (\d+) refused (\d+) seconds ([\d.]+)", out)
    if counts:
        holds, releases, refused, duration = (float(x) for x in counts.groups())
        lines.append(
            f"  {holds / duration:.0f} holds/s, {releases / duration:.0f} releases/s, "
            f"{refused:.0f} refused"
        )
    lines.append(
        f"ratio: {server.rate / max(hello.rate, 1):.3f}   "
        f"server CPU: {server.cpu_us:.0f} us/request"
    )
    return "\n".join(lines)


def run(
    scenario: str, app: str, env: dict[str, str], redis_url: str, seconds: int, with_ratio: bool
) -> str:
    new = asyncio.run
    body = ""
    if scenario == "standing":
        event = new(create_event(redis_url, venue(standing=1_000_000), []))
        body = '{"section_id":"GA","quantity":1}'
    else:
        size = 1_000 if scenario.endswith("-1k") else 100_000
        if scenario.startswith("seated-409"):
            blocked = [seat_id(k) for k in range(4)]
            event = new(create_event(redis_url, venue(size), blocked))
            body = '{"seat_ids":["' + '","'.join(blocked) + '"]}'
        else:
            event = new(create_event(redis_url, venue(size), []))
            own = via_own_wrk(app, env, event, seconds, seats=size, cycle="cycle" in scenario)
            return f"[own harness, wrk script]\n{own}"
    parts = []
    if with_ratio:
        parts.append("[ratio]\n" + via_ratio(app, env, event, body, seconds))
    if scenario == "standing":  # a fresh section for the second measurement
        event = new(create_event(redis_url, venue(standing=1_000_000), []))
    parts.append("[own harness]\n" + via_own_wrk(app, env, event, seconds, body=body))
    return "\n".join(parts)


def summarise(out: str) -> str:
    """`ratio`'s figure (or that it failed), the own harness's ratio, and CPU per request."""
    figures = []
    for part in re.split(r"^\[", out, flags=re.MULTILINE)[1:]:
        label, _, text = part.partition("]")
        ratio = re.search(r"^ratio: ([\d.]+)", text, re.MULTILINE)
        name = "ratio" if label == "ratio" else "own ratio"
        figures.append(f"{name} {ratio.group(1) if ratio else 'failed'}")
        if cpu := re.search(r"server CPU: (\d+)", text):
            figures.append(f"{cpu.group(1)} us CPU/request")
    return ", ".join(figures)


def main() -> None:
    global TOKEN
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--scenarios", nargs="+", default=SCENARIOS, choices=SCENARIOS)
    parser.add_argument("--variants", nargs="+", default=["product"], choices=list(APPS))
    parser.add_argument(
        "--no-ratio", action="store_true", help="skip the `ratio` runs (own harness only)"
    )
    options = parser.parse_args()
    TOKEN = bearer("bench")
    summary: list[str] = []
    with temporary_redis_db() as redis_url, ISSUER.serve() as jwks_url:
        for number in range(1, options.runs + 1):
            for variant in options.variants:
                env = {
                    **os.environ,
                    "PYTHONPATH": str(HERE),
                    "REDIS_URL": redis_url,
                    "JWKS_URL": jwks_url,
                    "LOG_LEVEL": "WARNING",
                    "ENVIRONMENT": "test",
                    "MAX_ACTIVE_HOLDS_PER_USER": "100000000",
                    "HOLD_TTL_S": "3600",
                    "SWEEP_INTERVAL_S": "3600",
                }
                for scenario in options.scenarios:
                    title = f"run {number} · {scenario} · {variant}"
                    print(f"== {title}", flush=True)
                    out = run(
                        scenario,
                        APPS[variant],
                        env,
                        redis_url,
                        options.seconds,
                        not options.no_ratio,
                    )
                    print(out, flush=True)
                    summary.append(f"{title}: {summarise(out)}")
    print("\n== summary (ratio to the hello-world of the same run; CPU per request of the server)")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
