import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_devkit import services
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.services import ADMIN


def pem(key: ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class Keys:
    active: ed25519.Ed25519PrivateKey
    recently_retired: ed25519.Ed25519PrivateKey
    long_retired: ed25519.Ed25519PrivateKey

    def config(self) -> str:
        now = datetime.now(UTC)
        return json.dumps(
            [
                {
                    "kid": "old",
                    "private_key": pem(self.long_retired),
                    "retired_at": (now - timedelta(days=2)).isoformat(),
                },
                {"kid": "current", "private_key": pem(self.active)},
                {
                    "kid": "previous",
                    "private_key": pem(self.recently_retired),
                    "retired_at": (now - timedelta(minutes=1)).isoformat(),
                },
            ]
        )


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(*(ed25519.Ed25519PrivateKey.generate() for _ in range(3)))


@pytest.fixture(scope="session")
def auth_env(database_url: str, redis_url: str, keys: Keys) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SIGNING_KEYS": keys.config(),
        "ADMIN_EMAIL": ADMIN.email,
        "ADMIN_PASSWORD": ADMIN.password,
        "LOGIN_FAILURES_PER_IP": "20",
        "LOGIN_FAILURES_PER_EMAIL": "5",
        "ENVIRONMENT": "test",
    }
    services.setup("auth", env)
    return env


@pytest.fixture(scope="session")
def auth(auth_env: dict[str, str]) -> Iterator[ServiceProcess]:
    with services.process("auth", auth_env) as process:
        yield process


@pytest.fixture(scope="session")
def api(auth: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{auth.url}/api/v1/auth", timeout=10) as client:
        yield client


def some_ip() -> str:
    """A distinct client address per call, so the per-IP login limit stays out of the way."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


class Accounts:
    def __init__(self, api: httpx.Client) -> None:
        self.api = api

    def register(self, password: str = "Correct-horse-9", **fields: str) -> dict[str, str]:
        body = {
            "email": f"user-{uuid.uuid4().hex[:10]}@example.com",
            "password": password,
            "name": "Test User",
        } | fields
        response = self.api.post("/register", json=body)
        assert response.status_code == 201, response.text
        return response.json() | {"password": password}

    def login(self, email: str, password: str) -> httpx.Response:
        return self.api.post(
            "/login",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": some_ip()},
        )

    def tokens(self, email: str, password: str) -> dict[str, str]:
        response = self.login(email, password)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def accounts(api: httpx.Client) -> Accounts:
    return Accounts(api)
