"""The organizer's view of an event's bookings: the sales summary, the filtered list, the CSV
export and refunds — each only for the event's organizer and admins."""

import csv
import io
import uuid
from typing import Any

import pytest
import redis
from ticketing_common.facts import Envelope, PaymentRefunded
from ticketing_devkit.pytest_plugin import assert_problem, bearer


def sales(platform, token: str, event_id: str, **params: Any):  # type: ignore[no-untyped-def]
    return platform.http.get(
        platform.url("booking", f"/api/v1/bookings/events/{event_id}/sales"),
        params=params,
        headers=bearer(token),
    )


def listed(platform, token: str, **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = platform.http.get(
        platform.url("booking", "/api/v1/bookings"), params=params, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def test_the_summary_counts_seats_sales_and_revenue_as_they_happen(  # type: ignore[no-untyped-def]
    platform, organizer, event: dict[str, Any]
) -> None:
    event_id = event["event_id"]
    before = sales(platform, organizer[1], event_id)
    assert before.status_code == 200, before.text
    assert before.headers["cache-control"] == "private, no-store"
    empty = before.json()
    assert empty["revenue_cents"] == empty["tickets_sold"] == empty["checked_in"] == 0
    assert empty["currency"] is None
    assert empty["seats"] == {"capacity": 30, "available": 30, "held": 0, "sold": 0}
    assert {s["section_id"]: s["capacity"] for s in empty["sections"]} == {"A": 10, "GA": 20}
    assert empty["sales_over_time"] == {"interval": "hour", "buckets": []}

    _, buyer = platform.user()
    confirmed = platform.bought(buyer, event_id, ["A-1-1", "A-1-2"])
    _, waverer = platform.user()
    platform.booked(waverer, platform.hold_id(waverer, event_id, ["A-2-1"]))  # pending payment

    summary = sales(platform, organizer[1], event_id, interval="minute").json()
    assert summary["revenue_cents"] == 8000
    assert summary["currency"] == "EUR"
    assert summary["tickets_sold"] == 2
    assert summary["bookings"]["confirmed"] == 1
    assert summary["bookings"]["pending_payment"] == 1
    assert summary["bookings"]["refunded"] == 0
    section_a = next(s for s in summary["sections"] if s["section_id"] == "A")
    assert (section_a["sold"], section_a["held"], section_a["available"]) == (2, 1, 7)
    assert summary["seats"]["sold"] == 2
    [bucket] = summary["sales_over_time"]["buckets"]
    assert (bucket["bookings"], bucket["tickets"], bucket["revenue_cents"]) == (1, 2, 8000)
    assert bucket["start"][:16] == confirmed["created_at"][:16]  # the minute it was made
    assert bucket["start"].endswith(":00Z")


def test_only_the_organizer_and_admins_see_an_events_sales(  # type: ignore[no-untyped-def]
    platform, organizer, event: dict[str, Any]
) -> None:
    event_id = event["event_id"]
    _, rival = platform.user("organizer")
    _, customer = platform.user()
    _, staff = platform.user("staff", organizer_id=organizer[0])
    assert_problem(sales(platform, rival, event_id), 403)
    assert_problem(sales(platform, customer, event_id), 403)
    assert_problem(sales(platform, staff, event_id), 403)  # the door is not the box office
    assert_problem(
        platform.http.get(platform.url("booking", f"/api/v1/bookings/events/{event_id}/sales")), 401
    )
    assert_problem(sales(platform, organizer[1], "no-such-event"), 404)
    assert_problem(sales(platform, organizer[1], event_id, interval="week"), 422)
    assert sales(platform, platform.admin_token, event_id).status_code == 200


def test_an_events_bookings_filter_by_status_and_seat(  # type: ignore[no-untyped-def]
    platform, organizer, event: dict[str, Any]
) -> None:
    event_id = event["event_id"]
    _, buyer = platform.user()
    paid = platform.bought(buyer, event_id, ["A-1-3"])
    pending = platform.booked(buyer, platform.hold_id(buyer, event_id, ["A-1-4"]))
    every = listed(platform, organizer[1], event_id=event_id)
    assert {b["booking_id"] for b in every} == {paid["booking_id"], pending["booking_id"]}
    only_paid = listed(platform, organizer[1], event_id=event_id, status="confirmed")
    assert [b["booking_id"] for b in only_paid] == [paid["booking_id"]]
    by_seat = listed(platform, organizer[1], event_id=event_id, seat_id="A-1-4")
    assert [b["booking_id"] for b in by_seat] == [pending["booking_id"]]
    # The customer's own list filters the same way.
    mine = listed(platform, buyer, status="pending_payment")
    assert [b["booking_id"] for b in mine] == [pending["booking_id"]]
    response = platform.http.get(
        platform.url("booking", "/api/v1/bookings"),
        params={"event_id": event_id, "status": "paid"},
        headers=bearer(organizer[1]),
    )
    assert_problem(response, 422)


def test_the_csv_export_names_each_customer_and_disarms_formulas(  # type: ignore[no-untyped-def]
    platform, organizer, event: dict[str, Any]
) -> None:
    event_id = event["event_id"]
    _, buyer = platform.user(name="Ada Lovelace")
    _, prankster = platform.user(name="=HYPERLINK(1)")
    first = platform.bought(buyer, event_id, ["A-2-1", "A-2-2"])
    second = platform.bought(prankster, event_id, ["A-2-3"])
    url = platform.url("booking", f"/api/v1/bookings/events/{event_id}/export")
    response = platform.http.get(url, headers=bearer(organizer[1]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="bookings-{event_id}-'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["booking_id"] for r in rows] == [first["booking_id"], second["booking_id"]]
    assert rows[0]["customer_name"] == "Ada Lovelace"
    assert rows[0]["customer_email"].endswith("@example.com")
    assert (rows[0]["seats"], rows[0]["amount"], rows[0]["currency"]) == (
        "A-2-1 A-2-2",
        "80.00",
        "EUR",
    )
    assert rows[0]["status"] == "confirmed"
    assert rows[0]["payment_id"] == first["payment"]["payment_id"]
    assert rows[1]["customer_name"] == "'=HYPERLINK(1)"

    refunded = platform.http.get(url, params={"status": "refunded"}, headers=bearer(organizer[1]))
    assert list(csv.DictReader(io.StringIO(refunded.text))) == []
    _, rival = platform.user("organizer")
    assert_problem(platform.http.get(url, headers=bearer(rival)), 403)
    assert_problem(
        platform.http.get(url, params={"status": "x"}, headers=bearer(organizer[1])), 422
    )


def refund(platform, token: str, booking_id: str, **body: Any):  # type: ignore[no-untyped-def]
    return platform.http.post(
        platform.url("booking", f"/api/v1/bookings/{booking_id}/refund"),
        json=body or None,
        headers=bearer(token),
    )


def test_the_organizer_refunds_a_paid_booking_and_the_seats_go_back_on_sale(  # type: ignore[no-untyped-def]
    platform, organizer, event: dict[str, Any]
) -> None:
    event_id = event["event_id"]
    _, buyer = platform.user()
    booking = platform.bought(buyer, event_id, ["A-1-5"])
    response = refund(platform, organizer[1], booking["booking_id"], reason="double booking")
    assert response.status_code == 200, response.text
    refunded = response.json()
    assert refunded["status"] == "refunded"
    # Whichever settles the booking first, this request or the payment.refunded fact of the
    # refund it asked for, the organizer's reason is the one kept.
    assert refunded["reason"] == "refunded by the organizer: double booking"
    assert platform.get(buyer, booking["booking_id"])["status"] == "refunded"
    platform.wait_for_seat(event_id, "A-1-5", "available")
    assert platform.payment_status(buyer, booking) == "refunded"
    again = refund(platform, organizer[1], booking["booking_id"])
    assert again.status_code == 200
    assert again.json()["status"] == "refunded"
    summary = sales(platform, organizer[1], event_id).json()
    assert summary["bookings"]["refunded"] == 1
    assert summary["refunded_cents"] == 4000


@pytest.mark.parametrize(
    ("asked_with", "kept"),
    [
        ("refunded by the organizer: double booking", "refunded by the organizer: double booking"),
        ("", "refunded at the payment provider"),  # a refund made in the provider's dashboard
    ],
)
def test_a_refund_fact_that_wins_the_race_keeps_the_reason_it_was_asked_with(  # type: ignore[no-untyped-def]
    platform, organizer, event: dict[str, Any], redis_url: str, asked_with: str, kept: str
) -> None:
    """The saga's race, made certain: payment's payment.refunded for the refund an organizer
    asked for reaches the saga before the refund request has saved the booking. It carries the
    reason the refund was asked with, and the booking keeps that."""
    _, buyer = platform.user()
    booking = platform.bought(buyer, event["event_id"], ["A-1-3"])
    fact = PaymentRefunded(
        payment_id=booking["payment"]["payment_id"],
        booking_id=booking["booking_id"],
        refund_id=uuid.uuid4().hex,
        amount_cents=4000,
        currency="EUR",
        reason=asked_with,
    )
    envelope = Envelope.of(fact, "payment")
    with redis.Redis.from_url(redis_url) as client:
        client.xadd(envelope.stream, {"envelope": envelope.model_dump_json()})
    refunded = platform.wait_for(buyer, booking["booking_id"], "refunded")
    assert refunded["reason"] == kept
    platform.wait_for_seat(event["event_id"], "A-1-3", "available")
    # The organizer's request, arriving second, returns the booking as it is.
    again = refund(platform, organizer[1], booking["booking_id"], reason="double booking")
    assert (again.status_code, again.json()["reason"]) == (200, kept)


def test_only_paid_bookings_of_your_own_event_are_refunded(  # type: ignore[no-untyped-def]
    platform, organizer, event: dict[str, Any]
) -> None:
    event_id = event["event_id"]
    _, buyer = platform.user()
    pending = platform.booked(buyer, platform.hold_id(buyer, event_id, ["A-2-4"]))
    problem = assert_problem(refund(platform, organizer[1], pending["booking_id"]), 409)
    assert problem["booking_status"] == "pending_payment"
    paid = platform.bought(buyer, event_id, ["A-2-5"])
    _, rival = platform.user("organizer")
    assert_problem(refund(platform, rival, paid["booking_id"]), 404)  # not theirs to probe
    assert_problem(refund(platform, buyer, paid["booking_id"]), 403)  # customers cancel
    assert_problem(refund(platform, organizer[1], "no-such-booking"), 404)
    assert_problem(refund(platform, organizer[1], paid["booking_id"], reason="x" * 201), 422)
    assert platform.get(buyer, paid["booking_id"])["status"] == "confirmed"
    by_admin = refund(platform, platform.admin_token, paid["booking_id"])
    assert by_admin.json()["reason"] == "refunded by an administrator"


@pytest.mark.parametrize("interval", ["minute", "hour", "day"])
def test_sales_over_time_buckets_start_on_the_interval(interval: str) -> None:
    from datetime import UTC, datetime

    from ticketing_booking.console import bucket_start

    at = datetime(2030, 5, 17, 19, 42, 31, 5, tzinfo=UTC)
    expected = {
        "minute": datetime(2030, 5, 17, 19, 42, tzinfo=UTC),
        "hour": datetime(2030, 5, 17, 19, tzinfo=UTC),
        "day": datetime(2030, 5, 17, tzinfo=UTC),
    }
    assert bucket_start(at, interval) == expected[interval]  # type: ignore[arg-type]
