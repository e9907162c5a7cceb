import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis
import stripe
from ticketing_devkit.processes import ServiceProcess, run_command
from ticketing_devkit.tokens import FakeIssuer

SERVICE_TOKEN = "payment-tests-service-token"
WEBHOOK_SECRET = "whsec_payment_tests_secret"


@pytest.fixture(scope="session")
def payment_env(database_url: str, redis_url: str, issuer: FakeIssuer) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWKS_URL": issuer.jwks_url,
        "SERVICE_TOKEN": SERVICE_TOKEN,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ENVIRONMENT": "test",
    }
    run_command([sys.executable, "-m", "ticketing_payment", "migrate"], env)
    return env


@pytest.fixture(scope="session")
def payment(payment_env: dict[str, str]) -> Iterator[ServiceProcess]:
    env = payment_env | {"PAYMENT_PROVIDER": "local"}
    with ServiceProcess("ticketing_payment.main:create_app", env, name="payment") as process:
        yield process


@pytest.fixture(scope="session")
def api(payment: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=payment.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def internal(payment: ServiceProcess) -> Iterator[httpx.Client]:
    headers = {"X-Service-Token": SERVICE_TOKEN}
    with httpx.Client(base_url=f"{payment.url}/internal", headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def facts(redis_url: str) -> Iterator[Callable[..., list[dict[str, Any]]]]:
    """facts(booking_id, count) → the payment facts about a booking, waiting (bounded) until
    at least `count` have been published."""
    client = redis.Redis.from_url(redis_url)

    def read(booking_id: str, count: int = 1, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while True:
            found = []
            for _, fields in client.xrange("facts:payment"):
                envelope = orjson.loads(fields[b"envelope"])
                if envelope["data"]["booking_id"] == booking_id:
                    found.append(envelope)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    yield read
    client.close()


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET, at: int | None = None) -> Any:
    payload = orjson.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, at)
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


def event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_test_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


class Webhooks:
    """Builds Stripe events about a payment, signs them and posts them to the endpoint."""

    def __init__(self, api: httpx.Client) -> None:
        self.api = api

    def sign(self, body: dict[str, Any], **sign: Any) -> Any:
        return signed(body, **sign)

    def post(self, body: dict[str, Any], **sign: Any) -> httpx.Response:
        payload, headers = signed(body, **sign)
        return self.api.post("/api/v1/payments/webhooks/stripe", content=payload, headers=headers)

    @staticmethod
    def intent(payment: dict[str, Any], event_type: str) -> dict[str, Any]:
        return event(
            event_type,
            {
                "id": payment["intent_id"],
                "object": "payment_intent",
                "amount": payment["amount_cents"],
                "currency": payment["currency"].lower(),
                "status": "succeeded" if event_type.endswith("succeeded") else "canceled",
                "metadata": {"payment_id": payment["payment_id"]},
                "last_payment_error": {"code": "card_declined", "message": "declined"},
            },
        )

    @staticmethod
    def refund(payment: dict[str, Any], status: str = "succeeded") -> dict[str, Any]:
        return event(
            "refund.created",
            {
                "id": f"re_test_{uuid.uuid4().hex[:16]}",
                "object": "refund",
                "amount": payment["amount_cents"],
                "payment_intent": payment["intent_id"],
                "status": status,
                "metadata": {},
            },
        )


@pytest.fixture(scope="session")
def webhooks(api: httpx.Client) -> Webhooks:
    return Webhooks(api)


@pytest.fixture
def new_payment(internal: httpx.Client) -> Callable[..., dict[str, Any]]:
    def create(user_id: str | None = None, amount_cents: int = 4200) -> dict[str, Any]:
        body = {
            "booking_id": uuid.uuid4().hex,
            "user_id": user_id or uuid.uuid4().hex,
            "amount_cents": amount_cents,
            "currency": "EUR",
        }
        response = internal.post("/payments", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        intent_id = created["client_secret"].split("_secret_")[0]
        return created | body | {"intent_id": intent_id}

    return create
