"""`make dev`: the whole stack as local processes, no Docker.

python -m ticketing_devkit.dev up        # stores, migrations, mail + DynamoDB stand-ins, setup
                                         # jobs, services, demo data; a service that dies is
                                         # started again; Ctrl-C stops
python -m ticketing_devkit.dev migrate   # only the migrations (every `migrate` setup job)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from ticketing_common.topology import start_order

from ticketing_devkit.processes import uvicorn_command
from ticketing_devkit.stack import (
    DEMO_ACCOUNTS,
    WEB_PORT,
    AuxiliaryProcess,
    ServiceSpec,
    auxiliary_processes,
    discover,
    seed_env,
    service_env,
)
from ticketing_devkit.web import WebApp

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


# A service that dies is started again after RESTART_BACKOFF_S, doubling (up to
# RESTART_MAX_BACKOFF_S) while it keeps dying within RESTART_STABLE_S of its start.
RESTART_BACKOFF_S = 1.0
RESTART_MAX_BACKOFF_S = 30.0
RESTART_STABLE_S = 30.0


def _exit_reason(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"


class StackError(Exception):
    """Why the stack cannot start or keep running: told to the user, exit status 1."""


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
            raise StackError(
                f"{name} is not running on 127.0.0.1:{port} and is not installed.\n"
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
            raise StackError(f"{name} did not come up on 127.0.0.1:{port}")


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
    # Fields the message already says (an access line's method, path and status) are not
    # repeated.
    said = set(str(message).split())
    extras = " ".join(
        f"{k}={v}"
        for k, v in entry.items()
        if k != "exc" and not (str(v) in said and len(said) > 1)
    )
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
    try:
        await _pump(process.stdout, label)
        await process.wait()
    finally:  # stopped half-way (Ctrl-C): the job goes too
        if process.returncode is None:
            process.terminate()
            await process.wait()
    if process.returncode != 0:
        raise StackError(f"{' '.join(args)} failed with exit code {process.returncode}")


def _label(name: str, index: int, width: int) -> str:
    return f"\033[{COLOURS[index % len(COLOURS)]}m{name:<{width}}|\033[0m"


async def run_setup(specs: list[ServiceSpec], only: str | None = None) -> None:
    """Each service's `setup` jobs (migrate; booking: create-table), or only the jobs named
    `only`, once the stores and auxiliary processes are up and before any service starts. They
    are safe to re-run."""
    width = max(len(s.name) for s in specs)
    for index, spec in enumerate(specs):
        for job in spec.setup:
            if only is not None and job != only:
                continue
            say(f"{spec.name}: {job}")
            await run_job(
                [sys.executable, "-m", spec.package, job],
                service_env(spec, specs, {}),
                _label(spec.name, index, width),
            )


def busy_ports(ports: Iterable[int]) -> list[int]:
    """The ports something already listens on (bound as uvicorn binds: SO_REUSEADDR)."""
    busy = []
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    return busy


def check_ports_free(specs: list[ServiceSpec], web_port: int | None = WEB_PORT) -> None:
    """Every service's port, and the web app's, must be free before anything starts (the
    stand-ins' ports may be taken by a stand-in left running: it is reused)."""
    owners = [(spec.dev_port, spec.name) for spec in specs]
    if web_port is not None:
        owners.append((web_port, "web"))
    taken = set(busy_ports(port for port, _ in owners))
    if taken:
        lines = [f"  {port} ({name})" for port, name in owners if port in taken]
        raise StackError(
            "these ports are in use, so the stack cannot start:\n"
            + "\n".join(lines)
            + "\n      Stop what listens there (`ss -ltnp` shows it): another `make dev`, or"
            " `docker compose down`."
        )


async def _wait_healthy(
    specs: list[ServiceSpec],
    processes: dict[str, asyncio.subprocess.Process],
    timeout_s: float = 90,
) -> None:
    import httpx

    waiting = list(specs)
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=1) as client:
        while waiting:
            for spec in list(waiting):
                process = processes[spec.name]
                if process.returncode is not None:
                    raise StackError(f"{spec.name} exited with {process.returncode} during startup")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{spec.dev_url}/health")).status_code == 200:
                        waiting.remove(spec)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(spec.name for spec in waiting)
                raise StackError(f"{names} did not become healthy within {timeout_s:.0f} s")
            if waiting:
                await asyncio.sleep(0.2)


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
    try:
        for _ in range(50):
            if await _reachable("127.0.0.1", aux.port):
                return process
            if process.returncode is not None:
                break
            await asyncio.sleep(0.2)
        raise StackError(f"{aux.name} did not come up on port {aux.port}")
    except BaseException:  # also a Ctrl-C while it starts: nobody else knows of it yet
        if process.returncode is None:
            process.terminate()
            await process.wait()
        raise


@dataclass
class Stack:
    """What `up` started, so that all of it is stopped, in order, however `up` ends."""

    specs: list[ServiceSpec]
    auxiliaries: list[AuxiliaryProcess]
    web: WebApp | None = None
    services: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    helpers: list[asyncio.subprocess.Process] = field(default_factory=list)
    pumps: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs] + [a.name for a in self.auxiliaries] + ["web"]

    @property
    def width(self) -> int:
        return max(len(name) for name in self.names)

    def label(self, name: str) -> str:
        return _label(name, self.names.index(name), self.width)

    async def start(self, seed: bool) -> None:
        """Stand-ins, setup jobs (migrations first), services (each once its peers are healthy),
        then demo data; the web app builds meanwhile and is served last."""
        building = asyncio.ensure_future(self._build_web())
        try:
            await self._start_backend(seed)
            await building
        finally:
            if not building.done():
                building.cancel()
                with contextlib.suppress(asyncio.CancelledError, StackError):
                    await building
        await self._serve_web()

    async def _build_web(self) -> None:
        if self.web is None:
            return
        if self.web.needs_install():
            say("web: installing Node dependencies (npm ci)")
            await run_job(self.web.install_command(), {}, self.label("web"))
        say("web: building the web app")
        await run_job(self.web.build_command(), {}, self.label("web"))

    async def _serve_web(self) -> None:
        if self.web is None:
            return
        process = await asyncio.create_subprocess_exec(
            *self.web.serve_command(),
            cwd=self.web.root,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        self.helpers.append(process)
        self.pumps.append(asyncio.create_task(_pump(process.stdout, self.label("web"))))
        for _ in range(100):
            if await _reachable("127.0.0.1", self.web.port):
                return
            if process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise StackError(f"the web app did not come up on port {self.web.port}")

    async def _start_backend(self, seed: bool) -> None:
        for aux in self.auxiliaries:
            helper = await start_auxiliary(aux, self.label(aux.name), self.pumps)
            if helper is not None:
                self.helpers.append(helper)
        await run_setup(self.specs)
        # In waves: a service starts once every peer it calls is healthy (auth first: the others
        # fetch its signing keys as they start, and one that started before auth answers would
        # reject every token until its next allowed fetch). Compose orders them the same.
        for wave in start_order(self.specs):
            for spec in wave:
                await self._start_service(spec)
            await _wait_healthy(wave, self.services)
        if seed:
            for spec in self.specs:
                for job in spec.demo_data:
                    say(f"demo data: {spec.name} {job}")
                    await run_job(
                        [sys.executable, "-m", spec.package, job],
                        seed_env(spec, self.specs),
                        self.label(spec.name),
                    )

    async def _start_service(self, spec: ServiceSpec) -> None:
        process = await asyncio.create_subprocess_exec(
            *uvicorn_command(spec.app, spec.dev_port),
            env={**os.environ, **service_env(spec, self.specs, {})},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
        )
        assert process.stdout is not None
        self.services[spec.name] = process
        self.pumps.append(asyncio.create_task(_pump(process.stdout, self.label(spec.name))))

    async def supervise(self) -> None:
        """Keep every service running until cancelled: one that exits (a crash, a SIGKILL) is
        started again after a back-off, and the log says so, instead of the stack stopping."""
        await asyncio.gather(*(self._keep_running(spec) for spec in self.specs))

    async def _keep_running(self, spec: ServiceSpec) -> None:
        failures = 0  # exits in a row, each soon after its start
        while True:
            started = time.monotonic()
            code = await self.services[spec.name].wait()
            failures = failures + 1 if time.monotonic() - started < RESTART_STABLE_S else 1
            delay = min(RESTART_BACKOFF_S * 2 ** (failures - 1), RESTART_MAX_BACKOFF_S)
            say(
                f"\033[33m{spec.name} exited ({_exit_reason(code)}); restarting it in "
                f"{delay:g} s (restart {failures} in a row)\033[0m"
            )
            await asyncio.sleep(delay)
            await self._start_service(spec)
            back = time.monotonic()
            try:
                await _wait_healthy([spec], self.services)
            except StackError as error:
                say(f"\033[31m{error}\033[0m")
                continue
            say(f"{spec.name} is back (healthy {time.monotonic() - back:.1f} s after its restart)")

    async def stop(self) -> None:
        say("stopping")
        for process in self.services.values():
            if process.returncode is None:
                process.terminate()
        for process in self.services.values():
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        for helper in self.helpers:  # after the services, which may still be sending
            if helper.returncode is None:
                helper.terminate()
                try:
                    await asyncio.wait_for(helper.wait(), 5)
                except TimeoutError:
                    helper.kill()
                    await helper.wait()
        for pump in self.pumps:
            pump.cancel()
        say(f"stopped at {datetime.now():%H:%M:%S}")

    def welcome(self) -> None:
        edge = next((s for s in self.specs if s.edge), None)
        say(
            "the stack is up"
            + (f": gateway on {edge.dev_url} (status: {edge.dev_url}/status)" if edge else "")
        )
        for spec in self.specs:
            say(f"  {spec.name:<{self.width}} {spec.dev_url}/docs")
        for aux in self.auxiliaries:
            say(f"  {aux.name:<{self.width}} {aux.url}")
        if self.web is not None:
            say(f"  {'web':<{self.width}} {self.web.url}  (the web app customers use)")
        for role, (email, password) in DEMO_ACCOUNTS.items():
            say(f"  demo {role:<9} {email} / {password}")
        say("  `make smoke` books a seat end to end. Ctrl-C stops everything.")


async def _until_stopped(work: asyncio.Future[Any], stop: asyncio.Event) -> bool:
    """Wait for `work` unless a stop is asked first (then cancel it). True: `work` finished."""
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if work in done:
        stopper.cancel()
        work.result()  # its error, if any
        return True
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError, StackError):
        await work
    return False


async def up(seed: bool) -> int:
    """Run the stack until Ctrl-C (exit status 0) or until something fails (1)."""
    specs = discover()
    if not specs:
        raise StackError("no services found under services/")
    web: WebApp | None = WebApp()
    if web is not None and (reason := web.missing()):
        say(f"\033[33mweb: {reason}\033[0m")
        web = None
    check_ports_free(specs, web.port if web else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stack = Stack(specs, auxiliary_processes(), web)
    try:
        await ensure_stores()
        if not await _until_stopped(asyncio.ensure_future(stack.start(seed)), stop):
            return 0
        stack.welcome()
        await _until_stopped(asyncio.ensure_future(stack.supervise()), stop)
        return 0
    except StackError as error:
        say(f"\033[31m{error}\033[0m")
        return 1
    finally:
        await stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="dev")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="run the stack")
    up_parser.add_argument("--no-seed", action="store_true", help="skip demo data")
    commands.add_parser("migrate", help="apply every service's migrations")
    args = parser.parse_args()
    try:
        if args.command == "up":
            sys.exit(asyncio.run(up(seed=not args.no_seed)))
        asyncio.run(ensure_stores())
        asyncio.run(run_setup(discover(), only="migrate"))
    except StackError as error:
        sys.exit(f"[dev] {error}")


if __name__ == "__main__":
    main()
