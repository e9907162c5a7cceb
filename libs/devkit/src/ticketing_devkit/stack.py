"""The local stack as data: which services exist (read from each service's pyproject
`[tool.ticketing]` table), and the environment each one runs with under `make dev`.

A new service joins the stack by declaring that table in its own pyproject; nothing here changes.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
# DynamoDB's API (ticketing_devkit.moto_server), for services that declare a `dynamodb-table`.
DYNAMODB_PORT = 8010
# The web app (frontend/), built and served by `vite preview`; the gateway's CORS lets it in.
WEB_PORT = 5173
FRONTEND_DIR = ROOT / "frontend"
WEB_ORIGINS = (f"http://localhost:{WEB_PORT}", f"http://127.0.0.1:{WEB_PORT}")


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # the folder under services/, e.g. "api-gateway"
    package: str  # the Python package, e.g. "ticketing_api_gateway"
    app: str  # the app factory, "module:function"
    dev_port: int
    routes: tuple[str, ...] = ()
    database: str | None = None
    dynamodb_table: str | None = None
    setup: tuple[str, ...] = field(default=())  # one-off jobs run before the services start
    commands: tuple[str, ...] = field(default=())  # one-off jobs run once they are up (seed)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.dev_port}"

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_")


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
    specs = []
    for manifest in sorted(root.glob("services/*/pyproject.toml")):
        table = tomllib.loads(manifest.read_text()).get("tool", {}).get("ticketing")
        if not table:
            continue
        app = table["app"]
        specs.append(
            ServiceSpec(
                name=manifest.parent.name,
                package=app.split(".")[0],
                app=app,
                dev_port=int(table["dev-port"]),
                routes=tuple(table.get("routes", ())),
                database=table.get("database"),
                dynamodb_table=table.get("dynamodb-table"),
                setup=tuple(table.get("setup", ())),
                commands=tuple(table.get("commands", ())),
            )
        )
    return specs


def _ed25519_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _kept(filename: str, make: Callable[[], str]) -> str:
    """A dev secret made once and kept in .dev/, so what it signs survives restarts."""
    path = DEV_DIR / filename
    if not path.exists():
        DEV_DIR.mkdir(exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text()


def signing_keys() -> str:
    """Auth's dev signing key: tokens survive restarts of `make dev`."""
    return _kept(
        "signing-keys.json", lambda: json.dumps([{"kid": "dev-1", "private_key": _ed25519_pem()}])
    )


def ticket_signing_key() -> str:
    """Booking's dev ticket key: tickets issued before a restart still verify."""
    return _kept("ticket-signing-key.pem", _ed25519_pem)


def waiting_room_signing_key() -> str:
    """The gateway's dev admission-token key: admissions survive restarts of `make dev`."""
    return _kept("waiting-room-signing-key.pem", _ed25519_pem)


def database_url(database: str) -> str:
    return f"{POSTGRES}/ticketing_{database}"


def service_env(
    spec: ServiceSpec, specs: list[ServiceSpec], extra: dict[str, str]
) -> dict[str, str]:
    """The environment one service runs with: shared settings, every peer's URL, its own DB."""
    by_name = {s.name: s for s in specs}
    env = {
        "ENVIRONMENT": "dev",
        "SERVICE_NAME": spec.name,
        "SERVICE_TOKEN": DEV_SERVICE_TOKEN,
        "REDIS_URL": REDIS,
        # Mail goes to the local catcher, like Redis a piece of shared infrastructure.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(MAIL_SMTP_PORT),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # uvicorn believes no X-Forwarded-For; each service's TRUSTED_PROXY_HOPS decides (as in
        # the images). Otherwise any local client could name its own address to the gateway.
        "FORWARDED_ALLOW_IPS": "",
    }
    if "auth" in by_name and spec.name != "auth":
        env["JWKS_URL"] = f"{by_name['auth'].url}/api/v1/auth/jwks"
    for peer in specs:
        env[f"{peer.env_prefix}_URL"] = peer.url
    # Only the gateway reads the route table: public path prefix -> owning service.
    env["GATEWAY_ROUTES"] = json.dumps({route: peer.url for peer in specs for route in peer.routes})
    if spec.database:
        env["DATABASE_URL"] = database_url(spec.database)
    if spec.dynamodb_table:
        # The local moto server; dummy credentials, so dev never reaches a real AWS account.
        env["DYNAMODB_TABLE"] = spec.dynamodb_table
        env["DYNAMODB_ENDPOINT_URL"] = f"http://127.0.0.1:{DYNAMODB_PORT}"
        env["AWS_REGION"] = "us-east-1"
        env["AWS_ACCESS_KEY_ID"] = "dev"
        env["AWS_SECRET_ACCESS_KEY"] = "dev"  # noqa: S105 - not a secret: moto accepts any
    if spec.name == "auth":
        env["SIGNING_KEYS"] = signing_keys()
        env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"] = DEMO_ADMIN
    if spec.name == "booking":
        env["TICKET_SIGNING_KEY"] = ticket_signing_key()
    if spec.name == "api-gateway":
        env["TRUSTED_PROXY_HOPS"] = "0"  # people call it directly: no proxy in front
        env["WAITING_ROOM_SIGNING_KEY"] = waiting_room_signing_key()
        # The web app calls the gateway from its own origin, as in production (README: "CORS").
        env["CORS_ORIGINS"] = json.dumps(list(WEB_ORIGINS))
    if spec.name == "payment":
        env["PAYMENT_PROVIDER"] = "local"  # the simulator: dev never reaches Stripe
    return env | extra


def seed_env(spec: ServiceSpec, specs: list[ServiceSpec]) -> dict[str, str]:
    """The environment of a service's `seed` job: its own, plus the demo admin's credentials,
    which demo data needs to give accounts their roles through auth's API."""
    return service_env(spec, specs, {"ADMIN_EMAIL": DEMO_ADMIN[0], "ADMIN_PASSWORD": DEMO_ADMIN[1]})
