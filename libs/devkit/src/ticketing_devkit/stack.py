"""The local stack as data: which services exist (the topology their pyprojects declare,
ticketing_common.topology), and the environment each one runs with under `make dev`.

A new service joins the stack by declaring that table in its own pyproject; nothing here changes:
no service is named here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ticketing_common import topology
from ticketing_common.signing import new_ed25519_pem
from ticketing_common.topology import Service

ROOT = Path(__file__).resolve().parents[4]
DEV_DIR = ROOT / ".dev"
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/0"
DEV_SERVICE_TOKEN = "dev-service-token-not-for-production"  # noqa: S105 - dev only
DEMO_ADMIN = ("admin@ticketing.dev", "Admin-demo-2026")
# The demo accounts people sign in with: the admin auth bootstraps from configuration, and the
# organizer and customer that events' demo data creates (ticketing_events.seed).
DEMO_ACCOUNTS = {
    "admin": DEMO_ADMIN,
    "organizer": ("organizer@ticketing.dev", "Organizer-demo-2026"),
    "customer": ("customer@ticketing.dev", "Customer-demo-2026"),
}
# The local mail catcher (ticketing_devkit.mailcatcher): SMTP for services, a web UI for people.
MAIL_SMTP_PORT = 1025
MAIL_WEB_PORT = 8025
# DynamoDB's API (ticketing_devkit.moto_server), for services that declare `dynamodb-tables`.
DYNAMODB_PORT = 8010
# The web app (frontend/), built and served by `vite preview`; the gateway's CORS lets it in.
WEB_PORT = 5173
FRONTEND_DIR = ROOT / "frontend"
WEB_ORIGINS = (f"http://localhost:{WEB_PORT}", f"http://127.0.0.1:{WEB_PORT}")


# A service as its pyproject declares it (ticketing_common.topology).
ServiceSpec = Service


@dataclass(frozen=True)
class AuxiliaryProcess:
    """A stand-in for infrastructure that `make dev` runs next to the services."""

    name: str
    args: tuple[str, ...]
    port: int  # reachable once it is up
    url: str  # where a person looks at it


def auxiliary_processes() -> list[AuxiliaryProcess]:
    return [
        AuxiliaryProcess(
            name="mail",
            args=(
                sys.executable,
                "-m",
                "ticketing_devkit.mailcatcher",
                "--smtp-port",
                str(MAIL_SMTP_PORT),
                "--http-port",
                str(MAIL_WEB_PORT),
            ),
            port=MAIL_SMTP_PORT,
            url=f"http://127.0.0.1:{MAIL_WEB_PORT}",
        ),
        AuxiliaryProcess(
            name="dynamodb",
            args=(
                sys.executable,
                "-m",
                "ticketing_devkit.moto_server",
                "--port",
                str(DYNAMODB_PORT),
            ),
            port=DYNAMODB_PORT,
            url=f"http://127.0.0.1:{DYNAMODB_PORT}/moto-api/",
        ),
    ]


def discover(root: Path = ROOT) -> list[ServiceSpec]:
    return topology.discover(root)


def _kept(filename: str, make: Callable[[], str]) -> str:
    """A dev secret made once and kept in .dev/, so what it signs survives restarts."""
    path = DEV_DIR / filename
    if not path.exists():
        DEV_DIR.mkdir(exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text()


def _kept_file(variable: str, suffix: str) -> str:
    """The file of .dev/ a kept secret lives in: SIGNING_KEYS -> signing-keys.json."""
    return variable.lower().replace("_", "-") + suffix


# What a service's `dev-provided` table may ask for: kind -> how `make dev` makes the value of
# that variable. Keys are made once and kept in .dev/, so what they sign (tokens, tickets)
# survives restarts of `make dev`.
PROVIDED: dict[str, Callable[[str], str]] = {
    # A JWT signing key set: [{kid, private_key}] (auth's SIGNING_KEYS).
    "signing-keys": lambda variable: _kept(
        _kept_file(variable, ".json"),
        lambda: json.dumps([{"kid": "dev-1", "private_key": new_ed25519_pem()}]),
    ),
    # An Ed25519 private key, PEM (booking's TICKET_SIGNING_KEY, the gateway's
    # WAITING_ROOM_SIGNING_KEY).
    "ed25519-key": lambda variable: _kept(_kept_file(variable, ".pem"), new_ed25519_pem),
    "demo-admin-email": lambda _: DEMO_ADMIN[0],
    "demo-admin-password": lambda _: DEMO_ADMIN[1],
    # The web app's origins, which may call the gateway (CORS_ORIGINS).
    "web-origins": lambda _: json.dumps(list(WEB_ORIGINS)),
}


def database_url(database: str) -> str:
    return f"{POSTGRES}/ticketing_{database}"


def _provided(variable: str, kind: str) -> str:
    """The value `make dev` makes for a variable a service's `dev-provided` asks for."""
    if kind not in PROVIDED:
        known = ", ".join(sorted(PROVIDED))
        raise topology.TopologyError(f"dev-provided {variable}: unknown kind {kind!r} ({known})")
    return PROVIDED[kind](variable)


def service_env(
    spec: ServiceSpec, specs: list[ServiceSpec], extra: dict[str, str]
) -> dict[str, str]:
    """The environment one service runs with: shared settings, its peers' URLs, its own stores,
    what its `dev-env` and `dev-provided` say."""
    by_name = {s.name: s for s in specs}
    env = {
        "ENVIRONMENT": "dev",
        "SERVICE_NAME": spec.name,
        "SERVICE_TOKEN": DEV_SERVICE_TOKEN,
        # Mail goes to the local catcher, like Redis a piece of shared infrastructure.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(MAIL_SMTP_PORT),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # uvicorn believes no X-Forwarded-For; each service's TRUSTED_PROXY_HOPS decides (as in
        # the images). Otherwise any local client could name its own address to the gateway.
        "FORWARDED_ALLOW_IPS": "",
    }
    peers = [by_name[name] for name in spec.peers + spec.late_peers if name in by_name]
    for peer in peers:
        env[f"{peer.env_prefix}_URL"] = peer.dev_url
        if peer.jwks:
            env["JWKS_URL"] = f"{peer.dev_url}{peer.jwks}"
    if spec.edge:  # the route table: public path prefix -> owning service
        env["GATEWAY_ROUTES"] = json.dumps(
            {route: peer.dev_url for peer in specs for route in peer.routes}
        )
    if spec.redis:
        env["REDIS_URL"] = REDIS
    if spec.database:
        env["DATABASE_URL"] = database_url(spec.database)
    if spec.dynamodb_tables:
        # The local moto server; dummy credentials, so dev never reaches a real AWS account.
        # (A service names its table in DYNAMODB_TABLE: one table each, so far.)
        env["DYNAMODB_TABLE"] = spec.dynamodb_tables[0]
        env["DYNAMODB_ENDPOINT_URL"] = f"http://127.0.0.1:{DYNAMODB_PORT}"
        env["AWS_REGION"] = "us-east-1"
        env["AWS_ACCESS_KEY_ID"] = "dev"
        env["AWS_SECRET_ACCESS_KEY"] = "dev"  # noqa: S105 - not a secret: moto accepts any
    env.update(spec.dev_env)
    env.update({name: _provided(name, kind) for name, kind in spec.dev_provided.items()})
    return env | extra


def seed_env(spec: ServiceSpec, specs: list[ServiceSpec]) -> dict[str, str]:
    """The environment of a service's `seed` job: its own, plus the demo admin's credentials,
    which demo data needs to give accounts their roles through auth's API."""
    return service_env(spec, specs, {"ADMIN_EMAIL": DEMO_ADMIN[0], "ADMIN_PASSWORD": DEMO_ADMIN[1]})
