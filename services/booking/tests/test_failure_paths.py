import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import boto3
from ticketing_devkit.pytest_plugin import assert_problem, bearer

HOLD_TTL_S = 6  # as conftest gives inventory


def test_a_failed_payment_fails_the_booking_and_frees_the_seats(platform, customer, event) -> None:
    _, token = customer
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-1"]))
    assert platform.simulate(token, booking, "failed").status_code == 202
    failed = platform.wait_for(token, booking["booking_id"], "failed")
    assert failed["reason"] == "Your card was declined."
    # The booking turns `failed`, then its hold is released: the seat is free right after.
    platform.wait_for_seat(event["event_id"], "A-2-1", "available")


def test_a_payment_after_the_hold_expired_reclaims_free_seats(platform, customer, event) -> None:
    _, token = customer
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-2"]))
    platform.wait_for(token, booking["booking_id"], "expired", timeout_s=HOLD_TTL_S + 10)
    assert platform.simulate(token, booking, "succeeded").status_code == 202
    confirmed = platform.wait_for(token, booking["booking_id"], "confirmed")
    assert confirmed["reason"] == "re-claimed after the hold expired"
    assert platform.seats(event["event_id"])["A-2-2"] == "sold"


def test_a_payment_after_the_seats_went_to_someone_else_is_refunded(
    platform, customer, event
) -> None:
    _, token = customer
    _, rival = platform.user()
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-3"]))
    deadline = time.monotonic() + HOLD_TTL_S + 5
    while (response := platform.hold(rival, event["event_id"], ["A-2-3"])).status_code != 201:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.3)
    rival_booking = platform.booked(rival, response.json()["hold_id"])
    assert platform.simulate(token, booking, "succeeded").status_code == 202
    failed = platform.wait_for(token, booking["booking_id"], "failed")
    assert "seats-taken" in failed["reason"]
    assert _payment_status(platform, token, booking, "refunded")
    # The seat is still the rival's to buy.
    assert platform.simulate(rival, rival_booking, "succeeded").status_code == 202
    platform.wait_for(rival, rival_booking["booking_id"], "confirmed")
    assert [s["booking_id"] for s in platform.sold(event["event_id"])] == [
        rival_booking["booking_id"]
    ]


def _payment_status(platform, token: str, booking: dict[str, Any], status: str) -> bool:
    deadline = time.monotonic() + 10
    while platform.payment_status(token, booking) != status:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_duplicate_webhook_confirms_once(platform, customer, event) -> None:
    _, token = customer
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-4"]))
    payload, headers = platform.signed_success(booking)
    url = platform.url("payment", "/api/v1/payments/webhooks/stripe")
    assert platform.http.post(url, content=payload, headers=headers).json()["outcome"] == "applied"
    assert (
        platform.http.post(url, content=payload, headers=headers).json()["outcome"] == "duplicate"
    )
    platform.wait_for(token, booking["booking_id"], "confirmed")
    path = f"/api/v1/bookings/{booking['booking_id']}/tickets"
    first = platform.http.get(platform.url("booking", path), headers=bearer(token)).json()
    time.sleep(0.5)
    again = platform.http.get(platform.url("booking", path), headers=bearer(token)).json()
    assert [t["secret"] for t in first] == [t["secret"] for t in again]
    assert len(first) == 1


def test_a_forged_webhook_changes_nothing(platform, customer, event) -> None:
    _, token = customer
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-5"]))
    payload, headers = platform.signed_success(booking, secret="whsec_forger")
    response = platform.http.post(
        platform.url("payment", "/api/v1/payments/webhooks/stripe"),
        content=payload,
        headers=headers,
    )
    assert_problem(response, 400)
    time.sleep(0.5)
    assert platform.get(token, booking["booking_id"])["status"] == "pending_payment"
    assert platform.payment_status(token, booking) == "requires_payment"


def test_cancel_before_payment_releases_the_seats(platform, customer, event) -> None:
    _, token = customer
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-1-3"]))
    response = platform.http.post(
        platform.url("booking", f"/api/v1/bookings/{booking['booking_id']}/cancel"),
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert platform.seats(event["event_id"])["A-1-3"] == "available"
    # A payment that lands anyway is given back.
    assert platform.simulate(token, booking, "succeeded").status_code == 202
    platform.wait_for(token, booking["booking_id"], "refunded")
    assert _payment_status(platform, token, booking, "refunded")
    assert platform.sold(event["event_id"]) == []


def test_cancel_after_payment_refunds_and_releases(platform, customer, event) -> None:
    _, token = customer
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-1-4"]))
    platform.simulate(token, booking, "succeeded")
    platform.wait_for(token, booking["booking_id"], "confirmed")
    _, other = platform.user()
    path = f"/api/v1/bookings/{booking['booking_id']}/cancel"
    assert_problem(platform.http.post(platform.url("booking", path), headers=bearer(other)), 404)
    response = platform.http.post(platform.url("booking", path), headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "refunded"
    assert platform.seats(event["event_id"])["A-1-4"] == "available"
    assert _payment_status(platform, token, booking, "refunded")
    assert platform.sold(event["event_id"]) == []
    again = platform.http.post(platform.url("booking", path), headers=bearer(token))
    assert again.json()["status"] == "refunded"


def test_a_cancelled_event_refunds_every_booking(platform, organizer, event) -> None:
    event_id = event["event_id"]
    people = [platform.user() for _ in range(3)]
    paid = [
        platform.booked(token, platform.hold_id(token, event_id, [seat]))
        for (_, token), seat in zip(people[:2], ["A-1-1", "A-1-2"], strict=True)
    ]
    for (_, token), booking in zip(people[:2], paid, strict=True):
        platform.simulate(token, booking, "succeeded")
        platform.wait_for(token, booking["booking_id"], "confirmed")
    pending = platform.booked(people[2][1], platform.hold_id(people[2][1], event_id, ["A-1-5"]))
    cancelled = platform.http.post(
        platform.url("events", f"/api/v1/events/{event_id}/cancel"), headers=bearer(organizer[1])
    )
    assert cancelled.status_code == 200, cancelled.text
    for (_, token), booking in zip(people[:2], paid, strict=True):
        platform.wait_for(token, booking["booking_id"], "refunded")
        assert _payment_status(platform, token, booking, "refunded")
    platform.wait_for(people[2][1], pending["booking_id"], "cancelled")
    assert platform.sold(event_id) == []
    # The pending booking's payment arriving now is refunded, never confirmed.
    platform.simulate(people[2][1], pending, "succeeded")
    platform.wait_for(people[2][1], pending["booking_id"], "refunded")
    assert _payment_status(platform, people[2][1], pending, "refunded")


def test_a_payment_after_booking_learnt_of_the_cancellation_is_refunded(
    platform, customer, event, booking_env: dict[str, str]
) -> None:
    """The event's cancellation is recorded in booking's table, but this pending booking has not
    been cancelled yet (the fact's handler is still on its way through the bookings) and
    inventory has not heard of it: a payment arriving now is refunded, and the seats that
    inventory sold for it are given back."""
    _, token = customer
    event_id = event["event_id"]
    booking = platform.booked(token, platform.hold_id(token, event_id, ["A-1-4"]))
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=booking_env["DYNAMODB_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    dynamodb.put_item(
        TableName=booking_env["DYNAMODB_TABLE"],
        Item={"booking_id": {"S": f"cancelled-event#{event_id}"}, "kind": {"S": "cancelled_event"}},
    )
    assert platform.simulate(token, booking, "succeeded").status_code == 202
    refunded = platform.wait_for(token, booking["booking_id"], "refunded")
    assert refunded["reason"] == "the event was cancelled"
    assert _payment_status(platform, token, booking, "refunded")
    assert platform.sold(event_id) == []
    platform.wait_for_seat(event_id, "A-1-4", "available")


def test_booking_requests_are_checked(platform, customer, event) -> None:
    _, token = customer
    _, other = platform.user()
    url = platform.url("booking", "/api/v1/bookings")
    hold_id = platform.hold_id(token, event["event_id"], ["A-1-5"])
    assert_problem(platform.book(other, hold_id), 409)
    assert_problem(platform.book(token, "no-such-hold"), 404)
    assert_problem(platform.http.post(url, json={"hold_id": hold_id}), 401)
    assert_problem(platform.http.post(url, json={"hold_id": 5}, headers=bearer(token)), 422)
    assert_problem(platform.http.post(url, json={}, headers=bearer(token)), 422)
    malformed = platform.http.post(
        url, content=b"{", headers=bearer(token) | {"Content-Type": "application/json"}
    )
    assert_problem(malformed, 400)
    huge = platform.http.post(url, json={"hold_id": "x" * 2_000_000}, headers=bearer(token))
    assert_problem(huge, 413)
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    assert_problem(platform.book(tampered, hold_id), 401)
    first = platform.book(token, hold_id, **{"Idempotency-Key": "k-1"})
    replay = platform.book(token, hold_id, **{"Idempotency-Key": "k-1"})
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()
    # Booking the same hold again gives the same booking, not a second one.
    assert platform.book(token, hold_id).json()["booking_id"] == first.json()["booking_id"]
    mine = platform.http.get(url, headers=bearer(token)).json()
    assert [b["booking_id"] for b in mine["items"]] == [first.json()["booking_id"]]
    assert_problem(
        platform.http.get(url, params={"event_id": event["event_id"]}, headers=bearer(token)), 403
    )
    assert_problem(
        platform.http.get(url, params={"cursor": "not-base64!"}, headers=bearer(token)), 400
    )
    assert_problem(
        platform.http.get(platform.url("booking", "/api/v1/bookings/nope"), headers=bearer(token)),
        404,
    )
    assert_problem(
        platform.http.get(platform.url("booking", f"/internal/events/{event['event_id']}/sold")),
        401,
    )


def test_racing_requests_for_one_hold_make_one_booking_with_one_payment(
    platform, event, database_url
) -> None:
    user_id, token = platform.user()
    hold_id = platform.hold_id(token, event["event_id"], ["A-2-1", "A-2-2"])
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: platform.book(token, hold_id), range(8)))
    assert [answer.status_code for answer in answers] == [201] * 8, answers[0].text
    assert len({answer.json()["booking_id"] for answer in answers}) == 1
    assert len({answer.json()["payment"]["payment_id"] for answer in answers}) == 1
    # Payment is asked before the booking is written: every racer asked for the same booking
    # id, so the losers left no payment behind.
    assert asyncio.run(_payments_of(database_url, user_id)) == [answers[0].json()["booking_id"]]
    mine = platform.http.get(platform.url("booking", "/api/v1/bookings"), headers=bearer(token))
    of_event = [b["booking_id"] for b in mine.json()["items"] if b["event_id"] == event["event_id"]]
    assert of_event == [answers[0].json()["booking_id"]]
    # The one payment is the booking's: paying it confirms the booking.
    assert platform.simulate(token, answers[0].json(), "succeeded").status_code == 202
    platform.wait_for(token, answers[0].json()["booking_id"], "confirmed")


async def _payments_of(database_url: str, user_id: str) -> list[str]:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch("SELECT booking_id FROM payments WHERE user_id = $1", user_id)
    finally:
        await conn.close()
    return [row["booking_id"] for row in rows]


def test_organizers_list_the_bookings_of_their_events(platform, organizer, event) -> None:
    _, token = platform.user()
    booking = platform.booked(token, platform.hold_id(token, event["event_id"], ["A-2-1"]))
    url = platform.url("booking", "/api/v1/bookings")
    listed = platform.http.get(
        url, params={"event_id": event["event_id"]}, headers=bearer(organizer[1])
    )
    assert listed.status_code == 200, listed.text
    assert [b["booking_id"] for b in listed.json()["items"]] == [booking["booking_id"]]
    _, stranger = platform.user("organizer")
    other = platform.http.get(url, params={"event_id": event["event_id"]}, headers=bearer(stranger))
    assert_problem(other, 403)
    # An admin may list any event's bookings, but an empty event id is not an event's.
    empty = platform.http.get(url, params={"event_id": ""}, headers=bearer(platform.admin_token))
    assert_problem(empty, 422)
