"""Running services as real processes (tests, `make dev`) and small helpers around them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, and never one this process was given before: two calls in
    a row (an SMTP and an HTTP port) can otherwise get the same port back from the kernel."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def listening_pid(port: int) -> int | None:
    """The process listening on TCP `port` on this machine, found by its socket in /proc (Linux),
    or None: how `make chaos` and the dev stack test find the service they kill."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(f"socket:[{parts[9]}]")
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(entry.name)
    return None


def wait_until_healthy(
    url: str, timeout_s: float = 30.0, process: subprocess.Popen[Any] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s}s")


def stop_process(process: subprocess.Popen[Any], grace_s: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `grace_s`: a server whose graceful
    shutdown hangs must not outlive its run (a leftover booking instance keeps consuming the
    bus and signing tickets with a key nobody else knows)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        print(
            f"pid {process.pid} did not stop within {grace_s:.0f} s of SIGTERM: killed", flush=True
        )
        process.kill()
        process.wait()


def uvicorn_command(app: str, port: int) -> list[str]:
    """How every service runs locally: its app factory under uvicorn with uvloop and httptools
    (with a header-read timeout: ticketing_common.server), as in the images."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--loop",
        "uvloop",
        "--http",
        "ticketing_common.server:HttpToolsProtocol",
    ]


class ServiceProcess:
    """A uvicorn process serving `app` (an app factory, `module:function`) on a free port."""

    def __init__(
        self, app: str, env: Mapping[str, str], *, port: int | None = None, name: str | None = None
    ) -> None:
        self.app = app
        self.env = dict(env)
        self.port = port or free_port()
        self.name = name or app.split(".")[0]
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix=f"{self.name}-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> ServiceProcess:
        env = {**os.environ, **self.env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            uvicorn_command(self.app, self.port),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(f"{self.url}/health", timeout_s, self.process)
        except Exception:
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{self.logs()[-4000:]}") from None
        return self

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve_app(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app in a background thread over real HTTP; yields its base URL."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Fake(Protocol):
    """A stand-in for a peer a test serves: its ASGI app, and where it answers once served."""

    url: str

    def app(self) -> Any: ...


F = TypeVar("F", bound=Fake)


@contextlib.contextmanager
def serve_fake(fake: F) -> Iterator[F]:
    """Serve `fake.app()` over real HTTP (serve_app) with `fake.url` set to where it answers."""
    with serve_app(fake.app()) as url:
        fake.url = url
        yield fake


def run_command(args: list[str], env: Mapping[str, str] | None = None) -> str:
    """Run a CLI step (migrations, seeding) and fail loudly with its output."""
    result = subprocess.run(  # noqa: S603
        args, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout
