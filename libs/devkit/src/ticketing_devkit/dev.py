"""`make dev`: the whole stack as local processes, no Docker.

python -m ticketing_devkit.dev up        # stores, migrations, mail + DynamoDB stand-ins, setup
                                         # jobs, services, demo data; Ctrl-C stops
python -m ticketing_devkit.dev migrate   # only the migrations
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from datetime import datetime

import orjson

from ticketing_devkit.processes import uvicorn_command
from ticketing_devkit.stack import (
    DEMO_ADMIN,
    AuxiliaryProcess,
    ServiceSpec,
    auxiliary_processes,
    database_url,
    discover,
    seed_env,
    service_env,
)

COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95]
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
]


def say(message: str) -> None:
    print(f"\033[1m[dev]\033[0m {message}", flush=True)


async def _reachable(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def _start_store(args: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(*args)
    await process.wait()


async def ensure_stores() -> None:
    """Local PostgreSQL and Redis must run; start them if installed, explain if absent."""
    stores = (
        ("PostgreSQL", 5432, "pg_ctlcluster", "postgresql"),
        ("Redis", 6379, "redis-server", "redis-server"),
    )
    for name, port, binary, package in stores:
        if await _reachable("127.0.0.1", port):
            continue
        if shutil.which(binary) is None:
            sys.exit(
                f"[dev] {name} is not running on 127.0.0.1:{port} and is not installed.\n"
                f"      Install it (Debian: apt-get install {package}) or use `docker compose up`."
            )
        say(f"starting {name}")
        if port == 5432:
            for version in os.listdir("/etc/postgresql"):
                await _start_store(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
                )
        else:
            await _start_store(REDIS_START)
        for _ in range(50):
            if await _reachable("127.0.0.1", port):
                break
            await asyncio.sleep(0.2)
        else:
            sys.exit(f"[dev] {name} did not come up on 127.0.0.1:{port}")


def _pretty(line: bytes) -> str:
    """JSON log lines become `HH:MM:SS level message key=value ...`; anything else passes."""
    text = line.decode(errors="replace").rstrip()
    try:
        entry = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    if not isinstance(entry, dict):
        return text
    ts = str(entry.pop("ts", ""))[11:19]
    level = str(entry.pop("level", "")).upper()
    message = entry.pop("msg", "")
    for key in ("service", "logger"):
        entry.pop(key, None)
    extras = " ".join(f"{k}={v}" for k, v in entry.items() if k != "exc")
    rendered = f"{ts} {level:<7} {message} {extras}".rstrip()
    if "exc" in entry:
        rendered += "\n" + str(entry["exc"])
    return rendered


async def _pump(stream: asyncio.StreamReader, label: str) -> None:
    while line := await stream.readline():
        for part in _pretty(line).splitlines():
            print(f"{label} {part}", flush=True)


async def run_job(args: Sequence[str], env: dict[str, str], label: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    await _pump(process.stdout, label)
    if await process.wait() != 0:
        sys.exit(f"[dev] {' '.join(args)} failed with exit code {process.returncode}")


def _label(name: str, index: int, width: int) -> str:
    return f"\033[{COLOURS[index % len(COLOURS)]}m{name:<{width}}|\033[0m"


async def migrate(specs: list[ServiceSpec]) -> None:
    width = max(len(s.name) for s in specs)
    for index, spec in enumerate(specs):
        if spec.database:
            say(f"migrating {spec.name} ({database_url(spec.database)})")
            env = service_env(spec, specs, {})
            await run_job(
                [sys.executable, "-m", spec.package, "migrate"],
                env,
                _label(spec.name, index, width),
            )


async def set_up(specs: list[ServiceSpec]) -> None:
    """Each service's `setup` jobs (booking: `create-table`), once the stores and auxiliary
    processes are up and before any service starts. They are safe to re-run."""
    width = max(len(s.name) for s in specs)
    for index, spec in enumerate(specs):
        for job in spec.setup:
            say(f"{spec.name}: {job}")
            await run_job(
                [sys.executable, "-m", spec.package, job],
                service_env(spec, specs, {}),
                _label(spec.name, index, width),
            )


async def _wait_healthy(
    spec: ServiceSpec, process: asyncio.subprocess.Process, timeout_s: float = 60
) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=1) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                sys.exit(f"[dev] {spec.name} exited with {process.returncode} during startup")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{spec.url}/health")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    sys.exit(f"[dev] {spec.name} did not become healthy on {spec.url}")


async def start_auxiliary(
    aux: AuxiliaryProcess, label: str, pumps: list[asyncio.Task[None]]
) -> asyncio.subprocess.Process | None:
    """Start a stand-in unless something already listens on its port (one left running)."""
    if await _reachable("127.0.0.1", aux.port):
        say(f"{aux.name} is already running on port {aux.port}; using it")
        return None
    process = await asyncio.create_subprocess_exec(
        *aux.args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    pumps.append(asyncio.create_task(_pump(process.stdout, label)))
    for _ in range(50):
        if await _reachable("127.0.0.1", aux.port):
            return process
        if process.returncode is not None:
            break
        await asyncio.sleep(0.2)
    sys.exit(f"[dev] {aux.name} did not come up on port {aux.port}")


async def up(seed: bool) -> None:
    specs = discover()
    if not specs:
        sys.exit("[dev] no services found under services/")
    await ensure_stores()
    await migrate(specs)
    auxiliaries = auxiliary_processes()
    width = max(len(name) for name in [s.name for s in specs] + [a.name for a in auxiliaries])
    processes: dict[str, asyncio.subprocess.Process] = {}
    helpers: list[asyncio.subprocess.Process] = []
    pumps: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for index, aux in enumerate(auxiliaries, start=len(specs)):
            helper = await start_auxiliary(aux, _label(aux.name, index, width), pumps)
            if helper is not None:
                helpers.append(helper)
        await set_up(specs)
        for index, spec in enumerate(specs):
            env = {**os.environ, **service_env(spec, specs, {})}
            process = await asyncio.create_subprocess_exec(
                *uvicorn_command(spec.app, spec.dev_port),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
            )
            assert process.stdout is not None
            processes[spec.name] = process
            pumps.append(
                asyncio.create_task(_pump(process.stdout, _label(spec.name, index, width)))
            )
        await asyncio.gather(*(_wait_healthy(spec, processes[spec.name]) for spec in specs))
        if seed:
            for index, spec in enumerate(specs):
                if "seed" in spec.commands:
                    say(f"seeding demo data ({spec.name})")
                    await run_job(
                        [sys.executable, "-m", spec.package, "seed"],
                        seed_env(spec, specs),
                        _label(spec.name, index, width),
                    )
        gateway = next((s for s in specs if s.name == "api-gateway"), None)
        say("the stack is up " + (f"— gateway on {gateway.url}" if gateway else ""))
        for spec in specs:
            say(f"  {spec.name:<{width}} {spec.url}/docs")
        for aux in auxiliaries:
            say(f"  {aux.name:<{width}} {aux.url}")
        say(f"  demo admin: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}   (Ctrl-C stops everything)")
        exits = [asyncio.create_task(p.wait()) for p in processes.values()]
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *exits], return_when=asyncio.FIRST_COMPLETED)
        if stopper not in done:
            crashed = [name for name, p in processes.items() if p.returncode is not None]
            say(f"{', '.join(crashed)} exited; stopping the stack")
    finally:
        say("stopping")
        for process in processes.values():
            if process.returncode is None:
                process.terminate()
        for process in processes.values():
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
        for helper in helpers:  # after the services, which may still be sending
            if helper.returncode is None:
                helper.terminate()
                try:
                    await asyncio.wait_for(helper.wait(), 5)
                except TimeoutError:
                    helper.kill()
        for pump in pumps:
            pump.cancel()
        say(f"stopped at {datetime.now():%H:%M:%S}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="dev")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="run the stack")
    up_parser.add_argument("--no-seed", action="store_true", help="skip demo data")
    commands.add_parser("migrate", help="apply every service's migrations")
    args = parser.parse_args()
    if args.command == "up":
        asyncio.run(up(seed=not args.no_seed))
    else:
        asyncio.run(ensure_stores())
        asyncio.run(migrate(discover()))


if __name__ == "__main__":
    main()
