import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from ticketing_common import contracts
from ticketing_common.facts import FACT_TYPES, Envelope, FactData, Ticket
from ticketing_devkit.peers import peer_routes
from ticketing_devkit.processes import ServiceProcess, free_port, run_command, serve_fake
from ticketing_devkit.pytest_plugin import eventually
from ticketing_devkit.stores import temporary_database, temporary_redis_db
from ticketing_devkit.tokens import FakeIssuer

SERVICE_TOKEN = "dev-service-token-not-for-production"
SENDER = "Ticketing <tickets@ticketing.dev>"


class MailCatcherProcess:
    """The devkit mail catcher as a real process: an aiosmtpd SMTP server that keeps what it
    receives, read back over its HTTP API."""

    def __init__(self, smtp_port: int | None = None) -> None:
        self.smtp_port = smtp_port or free_port()
        self.http_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> "MailCatcherProcess":
        args = [sys.executable, "-m", "ticketing_devkit.mailcatcher"]
        args += ["--smtp-port", str(self.smtp_port), "--http-port", str(self.http_port)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.web}/api/messages", timeout=1).status_code == 200:
                    return self
            time.sleep(0.05)
        raise RuntimeError("the mail catcher did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(f"{self.web}/api/messages").json()
        return found

    def to(self, address: str) -> list[EmailMessage]:
        """Messages for `address`, oldest first, parsed from their raw bytes."""
        ids = [m["id"] for m in self.messages() if address in m["rcpt_tos"]]
        return [self.parsed(i) for i in sorted(ids)]

    def parsed(self, message_id: int) -> EmailMessage:
        raw = httpx.get(f"{self.web}/messages/{message_id}.eml").content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Peers:
    """Auth and events as the notification service sees them: their internal contracts
    (`GET /internal/users/{id}`, `GET /internal/events/{id}`) and auth's JWKS."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    issuer: FakeIssuer = field(default_factory=FakeIssuer)
    url: str = ""

    def app(self) -> Starlette:
        async def user(request: Request) -> dict[str, Any] | None:
            return self.users.get(request.path_params["user_id"])

        async def event(request: Request) -> dict[str, Any] | None:
            return self.events.get(request.path_params["event_id"])

        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(self.issuer.jwks())

        answers = {contracts.CONTACT: user, contracts.EVENT: event}
        return Starlette(
            routes=[
                *peer_routes(answers, service_token=SERVICE_TOKEN),
                Route("/api/v1/auth/jwks", jwks),
            ]
        )

    def add_user(self, name: str = "Ada Lovelace") -> dict[str, Any]:
        user_id = str(uuid.uuid4())
        email = f"user-{user_id[:8]}@example.com"
        self.users[user_id] = {
            "id": user_id,
            "email": email,
            "name": name,
            "role": "customer",
            "created_at": datetime.now(UTC).isoformat(),
        }
        return self.users[user_id]

    def add_event(self, title: str = "Metallica World Tour") -> str:
        event_id = uuid.uuid4().hex
        self.events[event_id] = {
            "event_id": event_id,
            "organizer_id": "organizer-1",
            "title": title,
            "status": "on_sale",
            "venue_name": "Olympiastadion",
            "city": "Berlin",
            "starts_at": "2026-12-24T19:30:00+00:00",
            "currency": "EUR",
            "min_price_cents": 5000,
            "price_tiers": [{"tier": "standard", "price_cents": 5000, "currency": "EUR"}],
            "section_tiers": {"A": "standard"},
        }
        return event_id

    def token(self, user_id: str) -> str:
        return self.issuer.token(user_id)


def booking_fact(kind: str, user_id: str, event_id: str, tickets: int = 2, **extra: Any) -> Any:
    seats = [f"A-3-{n}" for n in range(1, tickets + 1)]
    fields: dict[str, Any] = {
        "booking_id": uuid.uuid4().hex,
        "user_id": user_id,
        "event_id": event_id,
        "seat_ids": seats,
        "amount_cents": 5000 * tickets,
        "currency": "EUR",
    } | extra
    if kind == "booking.confirmed":
        fields["tickets"] = [
            Ticket(ticket_id=uuid.uuid4().hex, seat_id=seat, secret=uuid.uuid4().hex)
            for seat in seats
        ]
    return FACT_TYPES[kind](**fields)


@dataclass
class Stack:
    process: ServiceProcess
    env: dict[str, str]
    bus: redis.Redis
    peers: Peers
    fact = staticmethod(booking_fact)

    def publish(self, fact: FactData) -> Envelope:
        envelope = Envelope.of(fact, "booking")
        self.publish_envelope(envelope)
        return envelope

    def publish_envelope(self, envelope: Envelope) -> None:
        self.bus.xadd(envelope.stream, {"envelope": envelope.model_dump_json()})

    def notifications(self, user_id: str) -> httpx.Response:
        return httpx.get(
            f"{self.process.url}/api/v1/notifications",
            headers={"Authorization": f"Bearer {self.peers.token(user_id)}"},
        )

    def dead_letters(self) -> list[dict[bytes, bytes]]:
        return [fields for _, fields in self.bus.xrange("deadletter:notification")]

    def eventually(self, check: Callable[[], Any], timeout_s: float = 15.0) -> Any:
        return eventually(check, timeout_s, logs=self.process.logs)


@pytest.fixture(scope="session")
def peers() -> Iterator[Peers]:
    with serve_fake(Peers()) as directory:
        yield directory


@contextlib.contextmanager
def running_stack(peers: Peers, **settings: str) -> Iterator[Stack]:
    """A notification service with its own database and Redis db."""
    with temporary_database() as database_url, temporary_redis_db() as redis_url:
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "AUTH_URL": peers.url,
            "EVENTS_URL": peers.url,
            "JWKS_URL": f"{peers.url}/api/v1/auth/jwks",
            "MAIL_FROM": SENDER,
            "ENVIRONMENT": "test",
            "BUS_BACKOFF_S": "0.2",
            "BUS_MAX_BACKOFF_S": "0.5",
            "BUS_MAX_ATTEMPTS": "40",
        } | settings
        run_command([sys.executable, "-m", "ticketing_notification", "migrate"], env)
        bus = redis.Redis.from_url(redis_url)
        with ServiceProcess(
            "ticketing_notification.main:create_app", env, name="notification"
        ) as process:
            yield Stack(process, env, bus, peers)
        bus.close()


@pytest.fixture(scope="session")
def catcher() -> Iterator[MailCatcherProcess]:
    running = MailCatcherProcess().start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def stack(peers: Peers, catcher: MailCatcherProcess) -> Iterator[Stack]:
    with running_stack(peers, SMTP_HOST="127.0.0.1", SMTP_PORT=str(catcher.smtp_port)) as running:
        yield running


@pytest.fixture
def new_catcher() -> Iterator[Callable[[int], MailCatcherProcess]]:
    """Start mail catchers on given SMTP ports (stopped after the test)."""
    started: list[MailCatcherProcess] = []

    def start(smtp_port: int) -> MailCatcherProcess:
        started.append(MailCatcherProcess(smtp_port).start())
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def new_stack(peers: Peers) -> Callable[..., Any]:
    """A notification service of the test's own, configured with the given settings."""
    return lambda **settings: running_stack(peers, **settings)


os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")  # moto: any credentials will do
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
