"""Private, disposable slices of the real PostgreSQL and Redis for one test session."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_TEST_DBS = range(1, 16)  # db 0 belongs to `make dev`


@contextmanager
def temporary_database(prefix: str = "test") -> Iterator[str]:
    """A fresh PostgreSQL database; yields its SQLAlchemy asyncpg URL and drops it afterwards."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def temporary_redis_db() -> Iterator[str]:
    """A Redis logical database claimed for this session (so concurrent test runs do not collide),
    flushed before and after; yields its URL."""
    import redis

    server = redis.Redis.from_url(REDIS_SERVER_URL)
    owner = uuid.uuid4().hex
    claimed = None
    for index in REDIS_TEST_DBS:
        if server.set(f"ticketing:test-db-claim:{index}", owner, nx=True, ex=3600):
            claimed = index
            break
    if claimed is None:
        raise RuntimeError(
            "all Redis test databases are claimed; stale claims expire within an hour"
        )
    url = f"{REDIS_SERVER_URL}/{claimed}"
    db = redis.Redis.from_url(url)
    db.flushdb()
    try:
        yield url
    finally:
        db.flushdb()
        db.close()
        server.delete(f"ticketing:test-db-claim:{claimed}")
        server.close()


class RedisServerMissing(RuntimeError):
    """redis-server or redis-cli is not installed, so no private cluster can be started."""


def _port_pair_free(port: int) -> bool:
    """A cluster node needs its port and its bus port (port + 10000)."""
    for candidate in (port, port + 10_000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                return False
    return True


def _spare_cluster_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20_000, 29_999)  # noqa: S311 - picking ports, not secrets
        if port not in ports and _port_pair_free(port):
            ports.append(port)
    return ports


def _cli(port: int, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our arguments
        ["redis-cli", "-p", str(port), *args],  # noqa: S607 - found on PATH above
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.stdout + result.stderr


def redis_server_command(port: int, **options: str) -> list[str]:
    """`redis-server` for a throwaway node on loopback `port`: nothing saved, no append-only
    file; `options` (`cluster_enabled="yes"`) become its `--cluster-enabled yes` flags."""
    flags = {"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
    flags |= {name.replace("_", "-"): value for name, value in options.items()}
    return [
        "redis-server",
        *(part for flag, value in flags.items() for part in (f"--{flag}", value)),
    ]


@contextmanager
def temporary_redis_cluster(nodes: int = 3) -> Iterator[str]:
    """A private Redis Cluster of `nodes` masters on spare loopback ports, started with
    `redis-server --cluster-enabled yes` and joined with `redis-cli --cluster create`; yields the
    URL of one node and stops every node afterwards. Raises RedisServerMissing without Redis."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        raise RedisServerMissing("redis-server/redis-cli are not installed")
    workdir = tempfile.mkdtemp(prefix="redis-cluster-")
    ports = _spare_cluster_ports(nodes)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            command = redis_server_command(
                port,
                cluster_enabled="yes",
                cluster_config_file=f"nodes-{port}.conf",
                cluster_node_timeout="5000",
                dir=workdir,
            )
            servers.append(
                subprocess.Popen(  # noqa: S603 - redis-server, found on PATH above; our arguments
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        for port in ports:
            _wait_until_node_says(port, ["ping"], "PONG")
        created = _cli(
            ports[0],
            "--cluster",
            "create",
            *(f"127.0.0.1:{port}" for port in ports),
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        )
        if "[OK] All 16384 slots covered" not in created:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created}")
        for port in ports:
            _wait_until_node_says(port, ["cluster", "info"], "cluster_state:ok")
        yield f"redis://127.0.0.1:{ports[0]}"
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_node_says(port: int, command: list[str], expected: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if expected in _cli(port, *command):
            return
        time.sleep(0.1)
    raise TimeoutError(f"redis node {port} never answered {' '.join(command)} with {expected}")
