import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ticketing_devkit.pytest_plugin import assert_problem


def test_creating_a_payment_is_idempotent_per_booking(internal: httpx.Client) -> None:
    body = {
        "booking_id": uuid.uuid4().hex,
        "user_id": "u1",
        "amount_cents": 5000,
        "currency": "EUR",
    }
    first = internal.post("/payments", json=body)
    again = internal.post("/payments", json=body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    created = first.json()
    assert created["provider"] == "local"
    assert created["status"] == "requires_payment"
    assert created["client_secret"].startswith("pi_local_")
    other = internal.post("/payments", json=body | {"amount_cents": 1})
    assert_problem(other, 409, type="https://ticketing-pro.com/problems/payment-mismatch")


def test_concurrent_creates_for_one_booking_make_one_payment(internal: httpx.Client) -> None:
    body = {"booking_id": uuid.uuid4().hex, "user_id": "u1", "amount_cents": 700, "currency": "EUR"}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: internal.post("/payments", json=body), range(8)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["payment_id"] for r in responses}) == 1
    assert len({r.json()["client_secret"] for r in responses}) == 1


def test_internal_commands_need_the_service_credential(api: httpx.Client) -> None:
    body = {"booking_id": "b", "user_id": "u", "amount_cents": 1, "currency": "EUR"}
    assert_problem(api.post("/internal/payments", json=body), 401)
    wrong = {"X-Service-Token": "guess"}
    assert_problem(api.post("/internal/payments", json=body, headers=wrong), 401)


def test_bad_create_bodies_are_refused(internal: httpx.Client) -> None:
    good = {"booking_id": "b1", "user_id": "u", "amount_cents": 100, "currency": "EUR"}
    for bad in (
        good | {"amount_cents": -1},
        good | {"amount_cents": "ten"},
        good | {"currency": "euro"},
        good | {"booking_id": ""},
        good | {"extra": 1},
        {"booking_id": "b1"},
    ):
        assert_problem(internal.post("/payments", json=bad), 422)
    malformed = internal.post(
        "/payments", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert_problem(malformed, 400)
    huge = internal.post("/payments", json=good | {"booking_id": "x" * 2_000_000})
    assert_problem(huge, 413)


def test_the_owner_and_admins_see_a_payment_others_do_not(
    api: httpx.Client, issuer, new_payment
) -> None:
    payment = new_payment(user_id="owner-1")
    path = f"/api/v1/payments/{payment['payment_id']}"
    mine = api.get(path, headers=issuer.headers("owner-1"))
    assert mine.status_code == 200
    assert mine.json() == {
        "payment_id": payment["payment_id"],
        "booking_id": payment["booking_id"],
        "status": "requires_payment",
        "amount_cents": 4200,
        "currency": "EUR",
        "provider": "local",
    }
    assert api.get(path, headers=issuer.headers("admin-1", "admin")).status_code == 200
    assert_problem(api.get(path, headers=issuer.headers("someone-else")), 404)
    assert_problem(api.get(path), 401)
    token = issuer.token("owner-1")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_problem(api.get(path, headers={"Authorization": f"Bearer {tampered}"}), 401)
    assert_problem(api.get("/api/v1/payments/nope", headers=issuer.headers("owner-1")), 404)


def test_simulated_success_is_a_signed_webhook_and_a_fact(
    api: httpx.Client, issuer, new_payment, facts
) -> None:
    payment = new_payment(user_id="payer")
    path = f"/api/v1/payments/{payment['payment_id']}"
    response = api.post(
        f"{path}/simulate", json={"outcome": "succeeded"}, headers=issuer.headers("payer")
    )
    assert response.status_code == 202, response.text
    assert api.get(path, headers=issuer.headers("payer")).json()["status"] == "succeeded"
    published = facts(payment["booking_id"])
    assert [f["type"] for f in published] == ["payment.succeeded"]
    assert published[0]["data"] == {
        "payment_id": payment["payment_id"],
        "booking_id": payment["booking_id"],
        "amount_cents": 4200,
        "currency": "EUR",
        "provider": "local",
    }
    again = api.post(
        f"{path}/simulate", json={"outcome": "failed"}, headers=issuer.headers("payer")
    )
    assert_problem(again, 409)
    assert api.get(path, headers=issuer.headers("payer")).json()["status"] == "succeeded"


def test_a_failed_payment_can_still_succeed_later(
    api: httpx.Client, issuer, new_payment, facts
) -> None:
    payment = new_payment(user_id="payer")
    path = f"/api/v1/payments/{payment['payment_id']}/simulate"
    headers = issuer.headers("payer")
    assert api.post(path, json={"outcome": "failed"}, headers=headers).status_code == 202
    assert api.post(path, json={"outcome": "succeeded"}, headers=headers).status_code == 202
    published = facts(payment["booking_id"], 2)
    assert [f["type"] for f in published] == ["payment.failed", "payment.succeeded"]
    assert published[0]["data"]["reason"] == "Your card was declined."


def test_only_the_owner_may_simulate(api: httpx.Client, issuer, new_payment) -> None:
    payment = new_payment(user_id="payer")
    path = f"/api/v1/payments/{payment['payment_id']}/simulate"
    assert_problem(
        api.post(path, json={"outcome": "succeeded"}, headers=issuer.headers("thief")), 404
    )
    assert_problem(api.post(path, json={"outcome": "maybe"}, headers=issuer.headers("payer")), 422)
    assert_problem(api.post(path, json={"outcome": "succeeded"}), 401)


def test_refunds_are_separate_records_and_idempotent(
    api: httpx.Client, internal: httpx.Client, issuer, new_payment, facts
) -> None:
    payment = new_payment(user_id="payer")
    refund_path = f"/payments/{payment['payment_id']}/refund"
    not_paid = internal.post(refund_path, json={"reason": "too early"})
    assert_problem(not_paid, 409, payment_status="requires_payment")
    simulate = f"/api/v1/payments/{payment['payment_id']}/simulate"
    api.post(simulate, json={"outcome": "succeeded"}, headers=issuer.headers("payer"))
    first = internal.post(refund_path, json={"reason": "customer cancelled"})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "succeeded"
    again = internal.post(refund_path, json={"reason": "customer cancelled"})
    assert again.json() == first.json()
    status = api.get(f"/api/v1/payments/{payment['payment_id']}", headers=issuer.headers("payer"))
    assert status.json()["status"] == "refunded"
    published = facts(payment["booking_id"], 2)
    assert [f["type"] for f in published] == ["payment.succeeded", "payment.refunded"]
    assert published[1]["data"]["refund_id"] == first.json()["refund_id"]
    assert published[1]["data"]["reason"] == "customer cancelled"  # booking keeps its reason
    assert_problem(internal.post("/payments/nope/refund", json={}), 404)


def test_booking_reads_payments_in_the_order_they_changed(
    internal: httpx.Client, webhooks, new_payment
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    first, second = new_payment(), new_payment()
    webhooks.post(webhooks.intent(second, "payment_intent.succeeded"))
    until = datetime.now(UTC) + timedelta(seconds=1)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "limit": 1,
        }
        if cursor:
            params["cursor"] = cursor
        page = internal.get("/payments", params=params)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    mine = [
        item for item in seen if item["payment_id"] in (first["payment_id"], second["payment_id"])
    ]
    assert [item["payment_id"] for item in mine] == [first["payment_id"], second["payment_id"]]
    assert mine[1]["status"] == "succeeded"
    assert mine[1]["booking_id"] == second["booking_id"]
    one = internal.get(f"/payments/{second['payment_id']}").json()
    assert (one["status"], one["refund_id"]) == ("succeeded", None)
    assert internal.get("/payments/nope").status_code == 404
    assert internal.get("/payments", params={"until": "x"}).status_code == 422
    bad = internal.get("/payments", params={"until": until.isoformat(), "cursor": "!!"})
    assert bad.status_code == 400
