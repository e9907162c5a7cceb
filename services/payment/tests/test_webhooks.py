import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import orjson
from ticketing_devkit.pytest_plugin import assert_problem

WEBHOOK = "/api/v1/payments/webhooks/stripe"


def test_a_replayed_event_is_acknowledged_and_has_no_effect(webhooks, new_payment, facts) -> None:
    payment = new_payment()
    event = webhooks.intent(payment, "payment_intent.succeeded")
    first = webhooks.post(event)
    assert first.status_code == 200
    assert first.json() == {"received": True, "outcome": "applied"}
    replay = webhooks.post(event)
    assert replay.status_code == 200
    assert replay.json()["outcome"] == "duplicate"
    time.sleep(0.5)  # give the relay time to publish anything a replay might have caused
    assert len(facts(payment["booking_id"], 2, timeout_s=0.5)) == 1


def test_concurrent_deliveries_of_one_event_apply_it_once(webhooks, new_payment, facts) -> None:
    payment = new_payment()
    event = webhooks.intent(payment, "payment_intent.succeeded")
    with ThreadPoolExecutor(8) as pool:
        outcomes = [r.json()["outcome"] for r in pool.map(lambda _: webhooks.post(event), range(8))]
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 7
    time.sleep(0.5)
    assert len(facts(payment["booking_id"], 2, timeout_s=0.5)) == 1


def test_forged_and_stale_signatures_are_refused(
    api: httpx.Client, webhooks, new_payment, facts
) -> None:
    payment = new_payment()
    event = webhooks.intent(payment, "payment_intent.succeeded")
    assert_problem(webhooks.post(event, secret="whsec_forger"), 400)
    assert_problem(webhooks.post(event, at=int(time.time()) - 3600), 400)
    assert_problem(webhooks.post(event, at=int(time.time()) + 3600), 400)  # and from the future
    unsigned = api.post(WEBHOOK, content=orjson.dumps(event))
    assert_problem(unsigned, 400)
    garbage = api.post(WEBHOOK, content=orjson.dumps(event), headers={"Stripe-Signature": "t=x,v1"})
    assert_problem(garbage, 400)
    _, headers = webhooks.sign(event)
    not_text = api.post(WEBHOOK, content=b"\xff\xfe" + orjson.dumps(event), headers=headers)
    assert_problem(not_text, 400)
    assert_problem(api.post(WEBHOOK, content=b"\xff\xfe"), 400)
    # A genuine signature over a tampered body fails too.
    _, headers = webhooks.sign(event)
    tampered = dict(event, type="payment_intent.payment_failed")
    assert_problem(api.post(WEBHOOK, content=orjson.dumps(tampered), headers=headers), 400)
    time.sleep(0.3)
    assert facts(payment["booking_id"], 1, timeout_s=0.3) == []
    assert webhooks.post(event).json()["outcome"] == "applied"  # the real one still works


def test_a_signed_body_that_is_not_an_event_is_refused(webhooks) -> None:
    assert_problem(webhooks.post({"hello": "world"}), 400)


def test_unknown_payments_and_other_event_types_are_acknowledged(webhooks, new_payment) -> None:
    payment = new_payment()
    stranger = webhooks.intent(
        payment | {"payment_id": "nope", "intent_id": "pi_nope"}, "payment_intent.succeeded"
    )
    assert webhooks.post(stranger).json()["outcome"] == "unknown-payment"
    other = webhooks.intent(payment, "payment_intent.created")
    assert webhooks.post(other).json()["outcome"] == "ignored"


def test_the_log_keeps_each_event_with_the_outcome_it_was_answered(
    webhooks, new_payment, payment_env: dict[str, str]
) -> None:
    payment = new_payment()
    answered = {}
    for event in (
        webhooks.intent(payment, "payment_intent.succeeded"),
        webhooks.intent(payment, "payment_intent.payment_failed"),  # late: stale
        webhooks.intent(payment, "payment_intent.created"),
    ):
        answered[event["id"]] = webhooks.post(event).json()["outcome"]
    assert sorted(answered.values()) == ["applied", "ignored", "stale"]

    async def logged() -> dict[str, str]:
        url = payment_env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT event_id, outcome FROM webhook_events WHERE event_id = ANY($1)",
                list(answered),
            )
        finally:
            await conn.close()
        return {row["event_id"]: row["outcome"] for row in rows}

    assert asyncio.run(logged()) == answered


def test_a_late_failure_does_not_undo_a_success(webhooks, new_payment, facts) -> None:
    payment = new_payment()
    assert (
        webhooks.post(webhooks.intent(payment, "payment_intent.succeeded")).json()["outcome"]
        == "applied"
    )
    late = webhooks.post(webhooks.intent(payment, "payment_intent.payment_failed"))
    assert late.json()["outcome"] == "stale"
    time.sleep(0.5)
    assert [f["type"] for f in facts(payment["booking_id"], 2, timeout_s=0.5)] == [
        "payment.succeeded"
    ]


def test_a_refund_arriving_before_the_success_implies_it(webhooks, new_payment, facts) -> None:
    payment = new_payment()
    assert webhooks.post(webhooks.refund(payment)).json()["outcome"] == "applied"
    late_success = webhooks.post(webhooks.intent(payment, "payment_intent.succeeded"))
    assert late_success.json()["outcome"] == "stale"
    published = facts(payment["booking_id"], 2)
    assert sorted(f["type"] for f in published) == ["payment.refunded", "payment.succeeded"]
    refunded = next(f for f in published if f["type"] == "payment.refunded")
    assert refunded["data"]["reason"] == "refunded at the payment provider"  # not asked by booking


def test_a_signature_a_little_ahead_of_our_clock_is_accepted(webhooks, new_payment) -> None:
    payment = new_payment()
    event = webhooks.intent(payment, "payment_intent.succeeded")
    assert webhooks.post(event, at=int(time.time()) + 60).json()["outcome"] == "applied"


def test_a_success_for_another_amount_or_currency_is_refused_and_kept_for_admins(
    api: httpx.Client, webhooks, new_payment, facts, issuer
) -> None:
    payment = new_payment(amount_cents=4200)
    cheaper = webhooks.intent(payment, "payment_intent.succeeded")
    cheaper["data"]["object"]["amount"] = 1
    answer = webhooks.post(cheaper)
    assert answer.status_code == 200  # acknowledged: Stripe must not retry it forever
    assert answer.json()["outcome"] == "amount-mismatch"
    dollars = webhooks.intent(payment, "payment_intent.succeeded")
    dollars["data"]["object"]["currency"] = "usd"
    assert webhooks.post(dollars).json()["outcome"] == "amount-mismatch"
    own = api.get(
        f"/api/v1/payments/{payment['payment_id']}", headers=issuer.headers("a1", "admin")
    )
    assert own.json()["status"] == "requires_payment"  # not succeeded
    time.sleep(0.3)
    assert facts(payment["booking_id"], 1, timeout_s=0.3) == []
    # Admins see both, with what each said.
    assert_problem(api.get("/api/v1/payments/anomalies", headers=issuer.headers("u1")), 403)
    listed = api.get("/api/v1/payments/anomalies", headers=issuer.headers("a1", "admin")).json()
    assert isinstance(listed, list), listed
    mine = [a for a in listed if a["payment_id"] == payment["payment_id"]]
    assert [a["event_id"] for a in mine] == [dollars["id"], cheaper["id"]]
    assert mine[1]["booking_id"] == payment["booking_id"]
    assert mine[1]["detail"]["expected"] == {"amount_cents": 4200, "currency": "EUR"}
    assert mine[1]["detail"]["received"] == {"amount_cents": 1, "currency": "EUR"}
    assert mine[0]["detail"]["received"] == {"amount_cents": 4200, "currency": "USD"}
    # The genuine event still applies.
    assert webhooks.post(webhooks.intent(payment, "payment_intent.succeeded")).json()[
        "outcome"
    ] == ("applied")
