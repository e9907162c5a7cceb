from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import AwareDatetime
from ticketing_common.contracts import (
    PaymentChanges,
    PaymentCreated,
    PaymentIn,
    PaymentState,
    RefundIn,
    RefundOut,
)
from ticketing_common.internal import internal_router
from ticketing_common.problems import PROBLEM
from ticketing_common.security import AdminUser, CurrentUser

from ticketing_payment.deps import PaymentsService, Webhooks
from ticketing_payment.payments import public
from ticketing_payment.schemas import (
    Anomaly,
    Payment,
    SimulateAccepted,
    SimulateIn,
    WebhookReceived,
)

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])
internal = internal_router()


@router.post(
    "/webhooks/stripe",
    response_model=WebhookReceived,
    responses={400: PROBLEM | {"description": "Bad or stale signature, or not an event"}},
    summary="Stripe webhook endpoint (authenticated by Stripe-Signature)",
)
async def stripe_webhook(
    request: Request,
    webhooks: Webhooks,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookReceived:
    outcome = await webhooks.receive(await request.body(), stripe_signature)
    return WebhookReceived(outcome=outcome)


@router.get(
    "/anomalies",
    response_model=list[Anomaly],
    responses={401: PROBLEM, 403: PROBLEM},
    summary="Admins: webhook events refused for disagreeing with their payment",
)
async def anomalies(
    admin: AdminUser,
    payments: PaymentsService,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Signed provider events that were not applied because they disagree with the payment they
    name (an amount or currency other than the payment's), newest first."""
    return await payments.anomalies(limit)


@router.get("/{payment_id}", response_model=Payment, responses={404: PROBLEM})
async def get_payment(payment_id: str, user: CurrentUser, payments: PaymentsService) -> Any:
    return public(await payments.visible_to(user, payment_id))


@router.post(
    "/{payment_id}/simulate",
    status_code=202,
    response_model=SimulateAccepted,
    responses={404: PROBLEM, 409: PROBLEM},
    summary="Local provider only: confirm the payment with a test outcome",
)
async def simulate(
    payment_id: str, body: SimulateIn, user: CurrentUser, payments: PaymentsService
) -> SimulateAccepted:
    await payments.simulate(user, payment_id, body.outcome)
    return SimulateAccepted(payment_id=payment_id, outcome=body.outcome)


@internal.post("/payments", status_code=201, response_model=PaymentCreated)
async def create_payment(body: PaymentIn, payments: PaymentsService) -> Any:
    """Idempotent per booking_id."""
    return await payments.create(body.booking_id, body.user_id, body.amount_cents, body.currency)


@internal.post(
    "/payments/{payment_id}/refund",
    response_model=RefundOut,
    responses={404: PROBLEM, 409: PROBLEM},
)
async def refund_payment(payment_id: str, body: RefundIn, payments: PaymentsService) -> Any:
    """Refund in full; idempotent (asking again returns the same refund)."""
    return await payments.refund(payment_id, body.reason)


@internal.get("/payments/{payment_id}", response_model=PaymentState, responses={404: PROBLEM})
async def payment_state(payment_id: str, payments: PaymentsService) -> Any:
    return await payments.state(payment_id)


@internal.get("/payments", response_model=PaymentChanges, responses={400: PROBLEM})
async def payment_changes(
    payments: PaymentsService,
    until: Annotated[AwareDatetime, Query(description="Only changes up to this time")],
    since: Annotated[
        AwareDatetime | None, Query(description="Only changes after this time (first page)")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512, description="From the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """Payments in the order they last changed (booking reconciles its bookings with them, so
    that no payment depends on a bus message alone)."""
    return await payments.changes(cursor, since, until, limit)
