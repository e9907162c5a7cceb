"""Payment providers: one interface, two implementations.

`StripeProvider` talks to Stripe (PaymentIntents, refunds) with idempotency keys derived from the
booking and the attempt, so a retried call never charges or refunds twice. `LocalSimulator` is
Stripe-shaped for dev and tests: it answers like Stripe and reports outcomes as Stripe-format
webhook events, signed with the webhook secret and delivered through the same webhook handler.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import orjson
import stripe
from stripe import WebhookSignature
from ticketing_common.problems import Problem, ProblemType
from ticketing_common.resources import Resource

log = logging.getLogger(__name__)

# Stripe's test payment methods; the simulator gives them the same meaning.
TEST_PAYMENT_METHODS = {"succeeded": "pm_card_visa", "failed": "pm_card_chargeDeclined"}
STRIPE_API_VERSION = stripe.api_version


@dataclass(frozen=True, slots=True)
class PaymentRef:
    """What a provider needs to know about one of our payments."""

    payment_id: str
    booking_id: str
    amount_cents: int
    currency: str
    attempt: int
    provider_payment_id: str | None = None


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    client_secret: str
    status: str  # Stripe's PaymentIntent status


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    id: str
    status: str  # Stripe's refund status: pending | succeeded | failed | canceled


def idempotency_key(payment: PaymentRef, step: str) -> str:
    """The same booking, attempt and step always send the same key: a retry is a replay."""
    return f"booking-{payment.booking_id}-attempt-{payment.attempt}-{step}"


class ProviderUnavailable(Problem):
    def __init__(self, reason: str) -> None:
        super().__init__(
            503,
            f"The payment provider is unavailable ({reason}); try again shortly",
            slug=ProblemType.PROVIDER_UNAVAILABLE,
            headers={"Retry-After": "2"},
        )


@runtime_checkable
class PaymentProvider(Protocol):
    kind: str  # recorded on each payment: "stripe" | "local"
    simulated: bool  # only a simulator accepts /simulate

    async def create_intent(self, payment: PaymentRef) -> Intent: ...

    async def confirm_intent(self, payment: PaymentRef, payment_method: str) -> Intent: ...

    async def refund(self, payment: PaymentRef, refund_id: str, reason: str) -> ProviderRefund: ...


class StripeProvider(Resource):
    name: ClassVar[str] = "provider"
    kind = "stripe"
    simulated = False

    def __init__(
        self, secret_key: str, *, api_base: str | None = None, max_network_retries: int = 2
    ) -> None:
        self.secret_key = secret_key
        self.api_base = api_base
        self.max_network_retries = max_network_retries
        self._http: stripe.AIOHTTPClient | None = None
        self._client: stripe.StripeClient | None = None

    async def start(self) -> None:
        self._http = stripe.AIOHTTPClient(timeout=20)
        self._client = stripe.StripeClient(
            self.secret_key,
            http_client=self._http,
            base_addresses={"api": self.api_base} if self.api_base else None,
            max_network_retries=self.max_network_retries,
        )

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close_async()  # type: ignore[no-untyped-call]

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            raise RuntimeError("the Stripe provider is not started")
        return self._client

    async def create_intent(self, payment: PaymentRef) -> Intent:
        params: Any = {
            "amount": payment.amount_cents,
            "currency": payment.currency.lower(),
            # Cards and wallets confirmed in the page; no redirect flows, so no return_url.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"payment_id": payment.payment_id, "booking_id": payment.booking_id},
            "description": f"Booking {payment.booking_id}",
        }
        intent = await self._call(
            self.client.v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key(payment, "create")}
            )
        )
        return Intent(intent.id, intent.client_secret or "", intent.status)

    async def confirm_intent(self, payment: PaymentRef, payment_method: str) -> Intent:
        if not payment.provider_payment_id:
            raise ValueError("the payment has no PaymentIntent yet")
        params: Any = {"payment_method": payment_method}
        options: Any = {"idempotency_key": idempotency_key(payment, f"confirm-{payment_method}")}
        try:
            intent = await self._call(
                self.client.v1.payment_intents.confirm_async(
                    payment.provider_payment_id, params, options
                )
            )
        except stripe.CardError as exc:
            # A decline is an outcome, not an outage: Stripe reports it by webhook as well.
            log.info("card declined", extra={"payment_id": payment.payment_id, "code": exc.code})
            return Intent(payment.provider_payment_id, "", "requires_payment_method")
        return Intent(intent.id, intent.client_secret or "", intent.status)

    async def refund(self, payment: PaymentRef, refund_id: str, reason: str) -> ProviderRefund:
        params: Any = {
            "payment_intent": payment.provider_payment_id,
            "reason": "requested_by_customer",
            "metadata": {
                "payment_id": payment.payment_id,
                "booking_id": payment.booking_id,
                "refund_id": refund_id,
                "reason": reason[:500],
            },
        }
        refund = await self._call(
            self.client.v1.refunds.create_async(
                params, {"idempotency_key": idempotency_key(payment, "refund")}
            )
        )
        return ProviderRefund(refund.id, refund.status or "pending")

    async def _call(self, request: Awaitable[Any]) -> Any:
        try:
            return await request
        except stripe.CardError:
            raise
        except stripe.APIConnectionError as exc:
            raise ProviderUnavailable("unreachable") from exc
        except stripe.StripeError as exc:
            log.error(
                "stripe refused a request",
                extra={"status": exc.http_status, "code": exc.code, "error": str(exc)},
            )
            raise Problem(
                502,
                "The payment provider refused the request",
                slug=ProblemType.PROVIDER_ERROR,
                provider_code=exc.code,
            ) from exc


Deliver = Callable[[bytes, str], Awaitable[object]]


class LocalSimulator(Resource):
    """Stripe-shaped answers without Stripe. Ids derive from the idempotency key (a retried call
    gets the same intent, as at Stripe); outcomes arrive as signed webhook events."""

    name: ClassVar[str] = "provider"
    kind = "local"
    simulated = True

    def __init__(self, webhook_secret: str, deliver: Deliver) -> None:
        self.webhook_secret = webhook_secret
        self.deliver = deliver

    def _id(self, prefix: str, key: str) -> str:
        return f"{prefix}_local_{hashlib.sha256(key.encode()).hexdigest()[:24]}"

    def _client_secret(self, intent_id: str) -> str:
        mac = hmac.new(self.webhook_secret.encode(), intent_id.encode(), hashlib.sha256)
        return f"{intent_id}_secret_{mac.hexdigest()[:24]}"

    async def create_intent(self, payment: PaymentRef) -> Intent:
        intent_id = self._id("pi", idempotency_key(payment, "create"))
        return Intent(intent_id, self._client_secret(intent_id), "requires_payment_method")

    async def confirm_intent(self, payment: PaymentRef, payment_method: str) -> Intent:
        if not payment.provider_payment_id:
            raise ValueError("the payment has no PaymentIntent yet")
        succeeded = payment_method == TEST_PAYMENT_METHODS["succeeded"]
        intent = self._intent_object(payment, succeeded)
        kind = "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed"
        await self._emit(kind, intent)
        return Intent(intent["id"], intent["client_secret"], intent["status"])

    async def refund(self, payment: PaymentRef, refund_id: str, reason: str) -> ProviderRefund:
        provider_refund_id = self._id("re", idempotency_key(payment, "refund"))
        await self._emit(
            "refund.created",
            {
                "id": provider_refund_id,
                "object": "refund",
                "amount": payment.amount_cents,
                "currency": payment.currency.lower(),
                "payment_intent": payment.provider_payment_id,
                "reason": "requested_by_customer",
                "status": "succeeded",
                "created": int(time.time()),
                "metadata": {
                    "payment_id": payment.payment_id,
                    "booking_id": payment.booking_id,
                    "refund_id": refund_id,
                    "reason": reason,
                },
            },
        )
        return ProviderRefund(provider_refund_id, "succeeded")

    def _intent_object(self, payment: PaymentRef, succeeded: bool) -> dict[str, Any]:
        assert payment.provider_payment_id is not None
        intent: dict[str, Any] = {
            "id": payment.provider_payment_id,
            "object": "payment_intent",
            "amount": payment.amount_cents,
            "amount_received": payment.amount_cents if succeeded else 0,
            "currency": payment.currency.lower(),
            "client_secret": self._client_secret(payment.provider_payment_id),
            "status": "succeeded" if succeeded else "requires_payment_method",
            "livemode": False,
            "metadata": {"payment_id": payment.payment_id, "booking_id": payment.booking_id},
            "last_payment_error": None,
        }
        if not succeeded:
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            }
        return intent

    async def _emit(self, event_type: str, obj: dict[str, Any]) -> None:
        event = stripe_event(event_type, obj)
        payload = orjson.dumps(event)
        header = WebhookSignature.generate_signature_header(payload.decode(), self.webhook_secret)
        await self.deliver(payload, header)


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A Stripe `event` object (snapshot payload) around `obj`."""
    return {
        "id": f"evt_local_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
