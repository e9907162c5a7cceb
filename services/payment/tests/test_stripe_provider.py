"""The Stripe provider's requests, checked as data against a recording server that answers like
Stripe; and the same calls against Stripe's test mode when STRIPE_TEST_SECRET_KEY is set."""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from ticketing_devkit.processes import ServiceProcess, serve_fake
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_payment.providers import PaymentRef, StripeProvider

SECRET_KEY = "sk_test_recorded_key"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeStripe:
    """Records every request; answers like Stripe; can fail the next N requests with a 500."""

    requests: list[Recorded] = field(default_factory=list)
    fail_next: int = 0
    decline_confirm: bool = False
    url: str = ""

    def app(self) -> Starlette:
        async def handle(request: Request) -> JSONResponse:
            form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            self.requests.append(
                Recorded(request.method, request.url.path, dict(request.headers), form)
            )
            if self.fail_next:
                self.fail_next -= 1
                return JSONResponse({"error": {"type": "api_error", "message": "boom"}}, 500)
            path = request.url.path
            if path == "/v1/payment_intents":
                intent = f"pi_fake_{uuid.uuid4().hex[:12]}"
                return JSONResponse(intent_object(intent, form, "requires_payment_method"))
            if path.endswith("/confirm"):
                intent = path.split("/")[3]
                if self.decline_confirm:
                    error = {"type": "card_error", "code": "card_declined", "message": "declined"}
                    return JSONResponse({"error": error}, 402)
                return JSONResponse(intent_object(intent, form, "succeeded"))
            if path == "/v1/refunds":
                return JSONResponse(
                    {
                        "id": f"re_fake_{uuid.uuid4().hex[:12]}",
                        "object": "refund",
                        "payment_intent": form["payment_intent"],
                        "status": "pending",
                        "amount": 4200,
                        "currency": "eur",
                    }
                )
            return JSONResponse({"error": {"type": "invalid_request_error"}}, 404)

        return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])

    def posts_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]


def intent_object(intent_id: str, form: dict[str, str], status: str) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "client_secret": f"{intent_id}_secret_fake",
        "status": status,
        "amount": int(form.get("amount", 0)),
        "currency": form.get("currency", "eur"),
    }


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with serve_fake(FakeStripe()) as fake:
        yield fake


@pytest.fixture(scope="module")
def stripe_payment(payment_env: dict[str, str], fake_stripe: FakeStripe) -> Iterator[httpx.Client]:
    env = payment_env | {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_API_BASE": fake_stripe.url,
    }
    with (
        ServiceProcess("ticketing_payment.main:create_app", env, name="payment-stripe") as process,
        httpx.Client(base_url=process.url, timeout=20) as client,
    ):
        yield client


def create_body(booking_id: str) -> dict[str, Any]:
    return {"booking_id": booking_id, "user_id": "payer", "amount_cents": 4200, "currency": "EUR"}


def internal_headers() -> dict[str, str]:
    return {"X-Service-Token": "payment-tests-service-token"}


def test_create_sends_a_payment_intent_with_a_key_from_booking_and_attempt(
    stripe_payment: httpx.Client, fake_stripe: FakeStripe
) -> None:
    booking_id = uuid.uuid4().hex
    before = len(fake_stripe.posts_to("/v1/payment_intents"))
    response = stripe_payment.post(
        "/internal/payments", json=create_body(booking_id), headers=internal_headers()
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["provider"] == "stripe"
    assert created["client_secret"].startswith("pi_fake_")
    sent = fake_stripe.posts_to("/v1/payment_intents")[before:]
    assert len(sent) == 1
    request = sent[0]
    assert request.headers["idempotency-key"] == f"booking-{booking_id}-attempt-1-create"
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert request.headers["stripe-version"]
    assert request.form == {
        "amount": "4200",
        "currency": "eur",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        "metadata[payment_id]": created["payment_id"],
        "metadata[booking_id]": booking_id,
        "description": f"Booking {booking_id}",
    }
    # Asking again for the same booking does not reach Stripe: the payment exists.
    again = stripe_payment.post(
        "/internal/payments", json=create_body(booking_id), headers=internal_headers()
    )
    assert again.json() == created
    assert len(fake_stripe.posts_to("/v1/payment_intents")) == before + 1


def test_a_retried_create_replays_the_same_idempotency_key(
    stripe_payment: httpx.Client, fake_stripe: FakeStripe
) -> None:
    booking_id = uuid.uuid4().hex
    before = len(fake_stripe.posts_to("/v1/payment_intents"))
    fake_stripe.fail_next = 1
    response = stripe_payment.post(
        "/internal/payments", json=create_body(booking_id), headers=internal_headers()
    )
    assert response.status_code == 201, response.text
    sent = fake_stripe.posts_to("/v1/payment_intents")[before:]
    assert len(sent) == 2
    assert {r.headers["idempotency-key"] for r in sent} == {
        f"booking-{booking_id}-attempt-1-create"
    }


def test_stripe_outages_are_a_503_and_a_later_call_finishes_the_payment(
    stripe_payment: httpx.Client, fake_stripe: FakeStripe
) -> None:
    booking_id = uuid.uuid4().hex
    fake_stripe.fail_next = 10  # more than the client's retries
    failed = stripe_payment.post(
        "/internal/payments", json=create_body(booking_id), headers=internal_headers()
    )
    assert_problem(failed, 502)
    fake_stripe.fail_next = 0
    retried = stripe_payment.post(
        "/internal/payments", json=create_body(booking_id), headers=internal_headers()
    )
    assert retried.status_code == 201
    assert retried.json()["status"] == "requires_payment"
    keys = {r.headers["idempotency-key"] for r in fake_stripe.posts_to("/v1/payment_intents")}
    assert f"booking-{booking_id}-attempt-1-create" in keys


def test_simulate_is_not_there_for_stripe_payments(
    stripe_payment: httpx.Client, issuer: Any
) -> None:
    created = stripe_payment.post(
        "/internal/payments", json=create_body(uuid.uuid4().hex), headers=internal_headers()
    ).json()
    response = stripe_payment.post(
        f"/api/v1/payments/{created['payment_id']}/simulate",
        json={"outcome": "succeeded"},
        headers=issuer.headers("payer"),
    )
    assert_problem(response, 404)


def test_refund_sends_the_payment_intent_and_a_refund_key(
    stripe_payment: httpx.Client, fake_stripe: FakeStripe, webhooks: Any
) -> None:
    booking_id = uuid.uuid4().hex
    created = stripe_payment.post(
        "/internal/payments", json=create_body(booking_id), headers=internal_headers()
    ).json()
    intent_id = created["client_secret"].split("_secret_")[0]
    payment = created | {"intent_id": intent_id, "amount_cents": 4200, "currency": "EUR"}
    assert webhooks.post(webhooks.intent(payment, "payment_intent.succeeded")).status_code == 200
    refund_path = f"/internal/payments/{created['payment_id']}/refund"
    response = stripe_payment.post(
        refund_path, json={"reason": "event cancelled"}, headers=internal_headers()
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"  # Stripe confirms by webhook
    sent = fake_stripe.posts_to("/v1/refunds")[-1]
    assert sent.headers["idempotency-key"] == f"booking-{booking_id}-attempt-1-refund"
    assert sent.form == {
        "payment_intent": intent_id,
        "reason": "requested_by_customer",
        "metadata[payment_id]": created["payment_id"],
        "metadata[booking_id]": booking_id,
        "metadata[refund_id]": response.json()["refund_id"],
        "metadata[reason]": "event cancelled",
    }
    count = len(fake_stripe.posts_to("/v1/refunds"))
    again = stripe_payment.post(
        refund_path, json={"reason": "event cancelled"}, headers=internal_headers()
    )
    assert again.json() == response.json()
    assert len(fake_stripe.posts_to("/v1/refunds")) == count  # already sent: not sent again


async def test_confirm_sends_the_payment_method_with_a_confirm_key(
    fake_stripe: FakeStripe,
) -> None:
    provider = StripeProvider(SECRET_KEY, api_base=fake_stripe.url, max_network_retries=0)
    await provider.start()
    try:
        payment = PaymentRef("pay-1", "booking-1", 4200, "EUR", 1, "pi_fake_confirm")
        intent = await provider.confirm_intent(payment, "pm_card_visa")
        assert intent.status == "succeeded"
        sent = fake_stripe.posts_to("/v1/payment_intents/pi_fake_confirm/confirm")[-1]
        assert sent.form == {"payment_method": "pm_card_visa"}
        assert sent.headers["idempotency-key"] == "booking-booking-1-attempt-1-confirm-pm_card_visa"
        fake_stripe.decline_confirm = True
        declined = await provider.confirm_intent(payment, "pm_card_chargeDeclined")
        assert declined.status == "requires_payment_method"
    finally:
        fake_stripe.decline_confirm = False
        await provider.stop()


STRIPE_TEST_KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")


@pytest.mark.skipif(
    not STRIPE_TEST_KEY.startswith("sk_test_"),
    reason="STRIPE_TEST_SECRET_KEY (an sk_test_ key) is not set: not run against Stripe test mode",
)
async def test_against_stripe_test_mode() -> None:
    provider = StripeProvider(STRIPE_TEST_KEY)
    await provider.start()
    try:
        booking_id = f"test-{uuid.uuid4().hex}"
        payment = PaymentRef(uuid.uuid4().hex, booking_id, 1500, "EUR", 1)
        intent = await provider.create_intent(payment)
        assert intent.id.startswith("pi_")
        assert intent.status == "requires_payment_method"
        assert await provider.create_intent(payment) == intent  # same key, same intent
        payment = PaymentRef(payment.payment_id, booking_id, 1500, "EUR", 1, intent.id)
        confirmed = await provider.confirm_intent(payment, "pm_card_visa")
        assert confirmed.status == "succeeded"
        refund = await provider.refund(payment, "refund-1", "test")
        assert refund.status in ("pending", "succeeded")
    finally:
        await provider.stop()
