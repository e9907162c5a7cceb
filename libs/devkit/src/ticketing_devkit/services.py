"""The platform's services as real processes for tests, started as the topology declares them
(each `[tool.ticketing]`: its app and its setup jobs), and the infrastructure stand-ins next to
them: what a service's tests run it with, and run as its peers.

    with running("events", env) as events:      # `migrate`, then its app, on a free port
        ...
    with auth_service(redis_url) as auth:       # a real auth, own database, the ADMIN account
        token = Platform(auth.url).login(*ADMIN)
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import NamedTuple

from ticketing_common.topology import Service

from ticketing_devkit.processes import ServiceProcess, free_port, run_command, wait_until_healthy
from ticketing_devkit.stack import discover
from ticketing_devkit.stores import temporary_database


class Credentials(NamedTuple):
    email: str
    password: str


# The administrator the auth of a test session bootstraps (ADMIN_EMAIL / ADMIN_PASSWORD).
ADMIN = Credentials("root@example.com", "Bootstrap-Admin-1")


@cache
def _declared() -> dict[str, Service]:
    return {service.name: service for service in discover()}


def setup(name: str, env: Mapping[str, str]) -> None:
    """Run the setup jobs service `name` declares (`migrate`, `create-table`) with `env`."""
    service = _declared()[name]
    for job in service.setup:
        run_command([sys.executable, "-m", service.package, job], env)


def process(
    name: str, env: Mapping[str, str], *, port: int | None = None, label: str | None = None
) -> ServiceProcess:
    """Service `name`'s app as a process (not started), on `port` or a free one."""
    return ServiceProcess(_declared()[name].app, env, port=port, name=label or name)


@contextmanager
def running(
    name: str, env: Mapping[str, str], *, port: int | None = None, label: str | None = None
) -> Iterator[ServiceProcess]:
    """Service `name` serving until the block ends, once its setup jobs ran on `env`."""
    setup(name, env)
    with process(name, env, port=port, label=label) as started:
        yield started


@contextmanager
def auth_service(redis_url: str, **settings: str) -> Iterator[ServiceProcess]:
    """A real auth service for the tests of a service that needs accounts and tokens: a database
    of its own, this session's Redis, the ADMIN account, and `settings` on top."""
    with temporary_database("test_auth") as database_url:
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ADMIN_EMAIL": ADMIN.email,
            "ADMIN_PASSWORD": ADMIN.password,
            "ENVIRONMENT": "test",
        }
        with running("auth", env | settings) as auth:
            yield auth


@contextmanager
def moto_server() -> Iterator[str]:
    """DynamoDB's API from the devkit's moto server (one request at a time, so conditional
    writes and transactions are atomic as on AWS; plain moto_server is not); yields its URL and
    stops it when the block ends: exit status 0 on SIGTERM (killed if still up after 30 s, as a
    loaded machine may take long)."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ticketing_devkit.moto_server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{url}/moto-api/", 30, server)
        yield url
    finally:
        server.terminate()
        try:
            status: int | None = server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            status = None
    assert status in (0, None), f"the moto server exited with {status}"
