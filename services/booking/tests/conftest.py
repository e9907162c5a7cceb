"""The saga under test: booking runs as a real process next to real auth, events, inventory and
payment processes, a real moto server (DynamoDB), this session's PostgreSQL databases and Redis."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import stripe
from ticketing_common.platform import Platform as PublicApi
from ticketing_common.platform import event_body
from ticketing_common.signing import new_ed25519_pem
from ticketing_devkit import services
from ticketing_devkit.processes import ServiceProcess, free_port
from ticketing_devkit.pytest_plugin import bearer
from ticketing_devkit.services import ADMIN
from ticketing_devkit.stores import temporary_database

SERVICE_TOKEN = "booking-tests-service-token"
WEBHOOK_SECRET = "whsec_booking_tests"
HOLD_TTL_S = 6  # short, so expiry paths run in seconds; every other flow pays well within it
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def common_env(redis_url: str) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "SERVICE_TOKEN": SERVICE_TOKEN, "ENVIRONMENT": "test"}


@pytest.fixture(scope="session")
def auth(redis_url: str) -> Iterator[ServiceProcess]:
    with services.auth_service(
        redis_url, SERVICE_TOKEN=SERVICE_TOKEN, LOGIN_ATTEMPTS_PER_IP="100000"
    ) as process:
        yield process


@pytest.fixture(scope="session")
def peers_env(common_env: dict[str, str], auth: ServiceProcess) -> dict[str, str]:
    return common_env | {"JWKS_URL": f"{auth.url}/api/v1/auth/jwks", "AUTH_URL": auth.url}


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    """Ports chosen up front: inventory rebuilds lost state from events and booking, which start
    after it."""
    return {"events": free_port(), "booking": free_port()}


@pytest.fixture(scope="session")
def inventory(peers_env: dict[str, str], ports: dict[str, int]) -> Iterator[ServiceProcess]:
    env = peers_env | {
        "HOLD_TTL_S": str(HOLD_TTL_S),
        "MAX_ACTIVE_HOLDS_PER_USER": "10000",
        "EVENTS_URL": f"http://127.0.0.1:{ports['events']}",
        "BOOKING_URL": f"http://127.0.0.1:{ports['booking']}",
        "RECONCILE_INTERVAL_S": "1",
        "RECONCILE_GRACE_S": "1",
    }
    with services.running("inventory", env) as process:
        yield process


@pytest.fixture(scope="session")
def events(
    peers_env: dict[str, str], inventory: ServiceProcess, ports: dict[str, int]
) -> Iterator[ServiceProcess]:
    with temporary_database("test_events") as database_url:
        env = peers_env | {"DATABASE_URL": database_url, "INVENTORY_URL": inventory.url}
        with services.running("events", env, port=ports["events"]) as process:
            yield process


@pytest.fixture(scope="session")
def payment(peers_env: dict[str, str], database_url: str) -> Iterator[ServiceProcess]:
    env = peers_env | {
        "DATABASE_URL": database_url,
        "PAYMENT_PROVIDER": "local",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with services.running("payment", env) as process:
        yield process


@pytest.fixture(scope="session")
def booking_env(
    peers_env: dict[str, str],
    moto_server: str,
    inventory: ServiceProcess,
    events: ServiceProcess,
    payment: ServiceProcess,
) -> dict[str, str]:
    env = (
        peers_env
        | AWS
        | {
            "DYNAMODB_ENDPOINT_URL": moto_server,
            "DYNAMODB_TABLE": f"bookings-{uuid.uuid4().hex[:8]}",
            "INVENTORY_URL": inventory.url,
            "EVENTS_URL": events.url,
            "PAYMENT_URL": payment.url,
            "TICKET_SIGNING_KEY": new_ed25519_pem(),
            "EXPIRY_GRACE_S": "1",
            "SWEEP_INTERVAL_S": "2",
            "OUTBOX_MIN_AGE_S": "1",
            "OUTBOX_RELAY_INTERVAL_S": "2",
            "BUS_CLAIM_IDLE_S": "2",
            "BUS_BACKOFF_S": "0.2",
            "RECONCILE_INTERVAL_S": "1",
            "RECONCILE_SETTLE_S": "0.5",
            "SALES_SUMMARY_CACHE_S": "0",  # every read sees the sale just made
        }
    )
    services.setup("booking", env)
    return env


class Restartable:
    """The booking process, which a test may kill (SIGKILL) and start again on the same port."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.process = services.process("booking", env, port=port)

    @property
    def url(self) -> str:
        return self.process.url

    def kill(self) -> None:
        self.process.kill()

    def start(self) -> None:
        self.process = services.process("booking", self.env, port=self.process.port).start()


@pytest.fixture(scope="session")
def booking(booking_env: dict[str, str], ports: dict[str, int]) -> Iterator[Restartable]:
    service = Restartable(booking_env, ports["booking"])
    service.process.start()
    yield service
    service.process.stop()


class Platform:
    """What a test does through the services' public and internal APIs: the devkit's client
    for each service (the same public paths the gateway routes), plus raw HTTP where a test
    looks at the answer itself."""

    def __init__(self, services: dict[str, ServiceProcess | Restartable]) -> None:
        self.urls = {name: service.url for name, service in services.items()}
        self.api = {name: PublicApi(url) for name, url in self.urls.items()}
        self.http = httpx.Client(timeout=30)
        self.admin_token = self.login(*ADMIN)

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path

    def login(self, email: str, password: str) -> str:
        return self.api["auth"].login(email, password)

    def user(
        self, role: str = "customer", *, name: str = "Test", organizer_id: str | None = None
    ) -> tuple[str, str]:
        """(user_id, access token) of a fresh account with `role` (staff: of `organizer_id`)."""
        return self.api["auth"].new_account(
            self.admin_token, role, name=name, organizer_id=organizer_id
        )

    def event(self, organizer_token: str, rows: int = 2, seats: int = 5) -> dict[str, Any]:
        """A published event: section A (`rows` rows of `seats`) at 40.00 EUR, standing GA."""
        events = self.api["events"]
        venue = events.create_venue(
            organizer_token,
            {
                "name": "Saga Hall",
                "city": "Testville",
                "country": "DE",
                "address": "1 Test Street",
                "timezone": "Europe/Berlin",
                "sections": [
                    {
                        "section_id": "A",
                        "name": "Stalls",
                        "kind": "seated",
                        "rows": [{"label": str(r + 1), "seats": seats} for r in range(rows)],
                    },
                    {"section_id": "GA", "name": "Floor", "kind": "standing", "capacity": 20},
                ],
            },
        )
        event = events.create_event(
            organizer_token,
            event_body(
                venue["venue_id"],
                "Saga Night",
                prices={"seat": 4000, "floor": 2500},
                currency="EUR",
                section_tiers={"A": "seat", "GA": "floor"},
                hours=2,
            ),
        )
        return dict(events.publish(organizer_token, event["event_id"]))

    def hold(self, token: str, event_id: str, seat_ids: list[str]) -> httpx.Response:
        return self.http.post(
            self.url("inventory", f"/api/v1/inventory/events/{event_id}/holds"),
            json={"seat_ids": seat_ids},
            headers=bearer(token),
        )

    def hold_id(self, token: str, event_id: str, seat_ids: list[str]) -> str:
        response = self.hold(token, event_id, seat_ids)
        assert response.status_code == 201, response.text
        return str(response.json()["hold_id"])

    def book(self, token: str, hold_id: str, **headers: str) -> httpx.Response:
        return self.http.post(
            self.url("booking", "/api/v1/bookings"),
            json={"hold_id": hold_id},
            headers=bearer(token) | headers,
        )

    def booked(self, token: str, hold_id: str) -> dict[str, Any]:
        response = self.book(token, hold_id)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def get(self, token: str, booking_id: str) -> dict[str, Any]:
        response = self.http.get(
            self.url("booking", f"/api/v1/bookings/{booking_id}"), headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def simulate(self, token: str, booking: dict[str, Any], outcome: str) -> httpx.Response:
        payment_id = booking["payment"]["payment_id"]
        return self.http.post(
            self.url("payment", f"/api/v1/payments/{payment_id}/simulate"),
            json={"outcome": outcome},
            headers=bearer(token),
        )

    @staticmethod
    def signed_success(
        booking: dict[str, Any], secret: str = WEBHOOK_SECRET
    ) -> tuple[bytes, dict[str, str]]:
        """A Stripe `payment_intent.succeeded` webhook for the booking's payment, as Stripe
        would deliver it (signed with `secret`)."""
        intent_id = booking["payment"]["client_secret"].split("_secret_")[0]
        event = {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "created": int(time.time()),
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": booking["amount_cents"],
                    "currency": booking["currency"].lower(),
                    "status": "succeeded",
                    "metadata": {"payment_id": booking["payment"]["payment_id"]},
                }
            },
        }
        payload = orjson.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret)
        return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}

    def payment_status(self, token: str, booking: dict[str, Any]) -> str:
        payment_id = booking["payment"]["payment_id"]
        response = self.http.get(
            self.url("payment", f"/api/v1/payments/{payment_id}"), headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    def bought(self, token: str, event_id: str, seat_ids: list[str]) -> dict[str, Any]:
        """A confirmed booking of `seat_ids`, paid with the local simulator."""
        booking = self.booked(token, self.hold_id(token, event_id, seat_ids))
        assert self.simulate(token, booking, "succeeded").status_code == 202
        return self.wait_for(token, booking["booking_id"], "confirmed")

    def tickets(self, token: str, booking_id: str) -> list[dict[str, Any]]:
        response = self.http.get(
            self.url("booking", f"/api/v1/bookings/{booking_id}/tickets"), headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_for(
        self, token: str, booking_id: str, *statuses: str, timeout_s: float = 20.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            booking = self.get(token, booking_id)
            if booking["status"] in statuses or time.monotonic() > deadline:
                assert booking["status"] in statuses, booking
                return booking
            time.sleep(0.1)

    def wait_for_seat(
        self, event_id: str, seat_id: str, status: str, timeout_s: float = 10.0
    ) -> None:
        """For changes the saga makes after the booking's status (a bus consumer's last step)."""
        deadline = time.monotonic() + timeout_s
        while (seen := self.seats(event_id)[seat_id]) != status:
            assert time.monotonic() < deadline, f"{seat_id} is {seen}, never {status}"
            time.sleep(0.05)

    def seats(self, event_id: str) -> dict[str, str]:
        response = self.http.get(
            self.url("inventory", f"/api/v1/inventory/events/{event_id}/availability"),
            params={"seats": "true"},
        )
        assert response.status_code == 200, response.text
        return response.json()["seats"]  # type: ignore[no-any-return]

    def sold(self, event_id: str) -> list[dict[str, Any]]:
        response = self.http.get(
            self.url("booking", f"/internal/events/{event_id}/sold"),
            headers={"X-Service-Token": SERVICE_TOKEN},
        )
        assert response.status_code == 200, response.text
        return response.json()["sold"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def platform(
    auth: ServiceProcess,
    inventory: ServiceProcess,
    events: ServiceProcess,
    payment: ServiceProcess,
    booking: Restartable,
) -> Iterator[Platform]:
    platform = Platform(
        {
            "auth": auth,
            "inventory": inventory,
            "events": events,
            "payment": payment,
            "booking": booking,
        }
    )
    yield platform
    platform.http.close()


@pytest.fixture(scope="session")
def organizer(platform: Platform) -> tuple[str, str]:
    return platform.user("organizer")


@pytest.fixture
def customer(platform: Platform) -> tuple[str, str]:
    return platform.user()


@pytest.fixture
def event(platform: Platform, organizer: tuple[str, str]) -> dict[str, Any]:
    return platform.event(organizer[1])
