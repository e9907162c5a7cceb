from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ticketing_booking.tickets import InvalidTicket, verify
from ticketing_devkit.pytest_plugin import assert_problem, bearer


def test_hold_book_pay_confirm_tickets_and_seats_sold(
    platform, customer, event: dict[str, Any]
) -> None:
    user_id, token = customer
    event_id = event["event_id"]
    hold_id = platform.hold_id(token, event_id, ["A-1-1", "A-1-2"])
    booking = platform.booked(token, hold_id)
    assert booking["status"] == "pending_payment"
    assert booking["user_id"] == user_id
    assert booking["seat_ids"] == ["A-1-1", "A-1-2"]
    assert (booking["amount_cents"], booking["currency"]) == (8000, "EUR")
    assert booking["payment"]["provider"] == "local"
    assert booking["payment"]["client_secret"]
    tickets = platform.http.get(
        platform.url("booking", f"/api/v1/bookings/{booking['booking_id']}/tickets"),
        headers=bearer(token),
    )
    assert_problem(tickets, 409)

    assert listed(platform, token) == [booking]  # the list shows it as the booking's own URL

    assert platform.simulate(token, booking, "succeeded").status_code == 202
    confirmed = platform.wait_for(token, booking["booking_id"], "confirmed")
    assert confirmed["payment"]["payment_id"] == booking["payment"]["payment_id"]
    assert listed(platform, token) == [confirmed]
    assert listed(platform, token, status="pending_payment") == []

    tickets = platform.http.get(
        platform.url("booking", f"/api/v1/bookings/{booking['booking_id']}/tickets"),
        headers=bearer(token),
    )
    assert tickets.status_code == 200, tickets.text
    issued = tickets.json()
    assert [t["seat_id"] for t in issued] == ["A-1-1", "A-1-2"]
    assert len({t["ticket_id"] for t in issued}) == 2
    assert all(t["qr_svg"].lstrip().startswith("<svg") for t in issued)

    document = platform.http.get(
        platform.url("booking", "/api/v1/bookings/tickets/public-key")
    ).json()
    public_key = serialization.load_pem_public_key(document["public_key_pem"].encode())
    assert isinstance(public_key, ed25519.Ed25519PublicKey)
    for ticket in issued:
        claims = verify(ticket["secret"], public_key)
        assert claims["bid"] == booking["booking_id"]
        assert claims["seat"] == ticket["seat_id"]
        assert claims["tid"] == ticket["ticket_id"]
        assert claims["kid"] == document["kid"]
    forged = issued[0]["secret"].split(".")[0] + "." + issued[1]["secret"].split(".")[1]
    try:
        verify(forged, public_key)
        raise AssertionError("a mixed-up secret verified")
    except InvalidTicket:
        pass

    seats = platform.seats(event_id)
    assert seats["A-1-1"] == seats["A-1-2"] == "sold"
    assert seats["A-1-3"] == "available"
    assert platform.sold(event_id) == [
        {
            "booking_id": booking["booking_id"],
            "seat_ids": ["A-1-1", "A-1-2"],
            "section_id": None,
            "quantity": 2,
        }
    ]
    assert platform.payment_status(token, booking) == "succeeded"


def listed(platform, token: str, **filters: str) -> list[dict[str, Any]]:
    """The caller's bookings as `GET /api/v1/bookings` lists them (read as raw JSON)."""
    response = platform.http.get(
        platform.url("booking", "/api/v1/bookings"), headers=bearer(token), params=filters
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    return page["items"]  # type: ignore[no-any-return]
