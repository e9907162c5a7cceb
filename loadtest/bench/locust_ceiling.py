"""The load generator's own ceiling: requests per CPU-second of one Locust process running the
locustfile's on-sale mix against a trivial local target (the test suite's stand-in platform,
tests/fake_platform.py), next to the bare-ASGI hello-world's req/s measured on the same core in
the same run (../shared/bench/ratio, for the machine's speed).

    uv run python loadtest/bench/locust_ceiling.py [--users 64] [--seconds 20]

Locust runs pinned to core 1 with no think time (`--think-time 0,0`), the stand-in on core 0;
the CPU time Locust spends (getrusage of the child) over the requests it made is its cost per
request. It prints how many Locust worker processes, each on a core of its own at 70 %, make
10,000 req/s of the mix (loadtest/README.md, "Distributed mode").
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from ticketing_devkit.bench import BENCH, asgi_on_core, wait_for_baseline_port
from ticketing_devkit.processes import wait_until_healthy

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
LOCUSTFILE = HERE.parent / "src" / "ticketing_loadtest" / "locustfile.py"
TARGET_RPS = 10_000
WORKER_UTILISATION = 0.7  # leave a worker core room: a saturated Locust reports late

STAND_IN = """
import sys, time
from fake_platform import Platform, serve
server = serve(Platform())
print(server.server_address[1], flush=True)
while True:
    time.sleep(3600)
"""


def hello_rps(seconds: int) -> float:
    """ratio's baseline by hand: the bare-ASGI hello-world on core 1, wrk on core 0."""
    with asgi_on_core("hello:app", 1, BENCH) as url:
        out = subprocess.run(  # noqa: S603
            ["/usr/bin/taskset", "-c", "0", "wrk", "-t1", "-c64", f"-d{seconds}s", f"{url}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(found.group(1)) if found else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    stand_in = subprocess.Popen(  # noqa: S603 - our interpreter, our code
        ["/usr/bin/taskset", "-c", "0", sys.executable, "-c", STAND_IN],
        cwd=TESTS,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stand_in.stdout is not None
        url = f"http://127.0.0.1:{stand_in.stdout.readline().strip()}"
        wait_until_healthy(f"{url}/api/v1/events", 30, stand_in)
        with tempfile.TemporaryDirectory() as state:
            subprocess.run(  # noqa: S603 - the setup step (accounts, events) against it
                [
                    sys.executable,
                    "-m",
                    "ticketing_loadtest",
                    "--gateway",
                    url,
                    "--dir",
                    state,
                    "prepare",
                    "--accounts",
                    str(args.users),
                ],
                check=True,
                capture_output=True,
            )
            prefix = Path(state) / "ceiling"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(  # noqa: S603
                [
                    "/usr/bin/taskset",
                    "-c",
                    "1",
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(LOCUSTFILE),
                    "--host",
                    url,
                    "--headless",
                    "--only-summary",
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.users),
                    "-t",
                    f"{args.seconds}s",
                    "--csv",
                    str(prefix),
                    "--think-time",
                    "0,0",
                    "--accounts-file",
                    f"{state}/accounts.json",
                    "--fixture-file",
                    f"{state}/fixture.json",
                    "OnSaleUser",
                ],
                check=False,
                capture_output=True,
                env={**os.environ, "LOADTEST_ALLOWED_HOSTS": ""},
                timeout=args.seconds + 120,
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            with Path(f"{prefix}_stats.csv").open(newline="") as file:
                total = next(r for r in csv.DictReader(file) if r["Name"] == "Aggregated")
    finally:
        stand_in.terminate()
        stand_in.wait(10)
    requests = int(total["Request Count"])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    per_cpu = requests / cpu if cpu else 0.0
    workers = math.ceil(TARGET_RPS / (per_cpu * WORKER_UTILISATION)) if per_cpu else 0
    wait_for_baseline_port()
    hello = hello_rps(5)
    print(
        f"locust: {requests:,} requests in {args.seconds} s ({float(total['Requests/s']):,.0f} "
        f"req/s), {cpu:.1f} CPU-s: {per_cpu:,.0f} requests per CPU-second of one Locust "
        f"process (hello-world on the same core: {hello:,.0f} req/s)\n"
        f"10,000 req/s of the mix: {workers} worker processes, one core each at "
        f"{WORKER_UTILISATION:.0%}",
        flush=True,
    )


if __name__ == "__main__":
    main()
