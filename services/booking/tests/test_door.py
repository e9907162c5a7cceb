"""Door check-in over real HTTP: a ticket's first scan is valid, every other scan of it (on any
device, at once or later) is already used, a resent scan is a replay, a refunded ticket is
revoked and listed, and only the event's organizer, their staff and admins may scan."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ticketing_devkit.pytest_plugin import assert_problem, bearer


def scan(secret: str, device: str = "door-1", **extra: Any) -> dict[str, Any]:
    return {"scan_id": uuid.uuid4().hex, "secret": secret, "device_id": device} | extra


def check_in(platform, token: str, event_id: str, *scans: dict[str, Any]):  # type: ignore[no-untyped-def]
    return platform.http.post(
        platform.url("booking", f"/api/v1/bookings/events/{event_id}/checkins"),
        json={"scans": list(scans)},
        headers=bearer(token),
    )


def results(platform, token: str, event_id: str, *scans: dict[str, Any]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = check_in(platform, token, event_id, *scans)
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


@pytest.fixture
def ticketed(platform, event: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A confirmed booking of two seats and its tickets."""
    _, buyer = platform.user()
    booking = platform.bought(buyer, event["event_id"], ["A-1-1", "A-1-2"])
    return {
        "event_id": event["event_id"],
        "booking": booking,
        "buyer": buyer,
        "tickets": platform.tickets(buyer, booking["booking_id"]),
    }


def test_first_scan_is_valid_a_second_device_is_told_who_was_first_and_a_resend_replays(  # type: ignore[no-untyped-def]
    platform, organizer, ticketed
) -> None:
    event_id, ticket = ticketed["event_id"], ticketed["tickets"][0]
    at = datetime.now(UTC) - timedelta(minutes=3)  # scanned offline, synced now
    first = scan(ticket["secret"], "door-north", scanned_at=at.isoformat())
    [valid] = results(platform, organizer[1], event_id, first)
    assert valid["result"] == "valid"
    assert valid["detail"] == "Valid ticket: let them in."
    assert (valid["ticket_id"], valid["seat_id"]) == (ticket["ticket_id"], "A-1-1")
    assert valid["booking_id"] == ticketed["booking"]["booking_id"]
    assert valid["first_scan"]["device_id"] == "door-north"
    assert valid["first_scan"]["scanned_at"] == at.isoformat().replace("+00:00", "Z")

    [used] = results(platform, organizer[1], event_id, scan(ticket["secret"], "door-south"))
    assert used["result"] == "already_used"
    assert used["first_scan"]["device_id"] == "door-north"
    assert used["first_scan"]["scan_id"] == first["scan_id"]

    # The north door's sync is retried (its answer was lost): the same scan, the same answer.
    [replayed] = results(platform, organizer[1], event_id, first)
    assert replayed["result"] == "valid"

    # The other ticket of the booking is its own ticket.
    [other] = results(platform, organizer[1], event_id, scan(ticketed["tickets"][1]["secret"]))
    assert other["result"] == "valid"

    listed = platform.http.get(
        platform.url("booking", f"/api/v1/bookings/events/{event_id}/checkins"),
        headers=bearer(organizer[1]),
    ).json()
    assert {c["ticket_id"] for c in listed["items"]} == {
        t["ticket_id"] for t in ticketed["tickets"]
    }
    summary = platform.http.get(
        platform.url("booking", f"/api/v1/bookings/events/{event_id}/sales"),
        headers=bearer(organizer[1]),
    ).json()
    assert summary["checked_in"] == 2


def test_one_ticket_twice_in_one_sync_lets_in_the_first_scan_only(  # type: ignore[no-untyped-def]
    platform, organizer, ticketed
) -> None:
    secret = ticketed["tickets"][0]["secret"]
    answers = results(
        platform, organizer[1], ticketed["event_id"], scan(secret, "a"), scan(secret, "a")
    )
    assert [a["result"] for a in answers] == ["valid", "already_used"]


def test_two_devices_scanning_the_same_ticket_at_once_let_in_exactly_one(  # type: ignore[no-untyped-def]
    platform, organizer, ticketed
) -> None:
    secret = ticketed["tickets"][0]["secret"]

    def door(n: int) -> str:
        [answer] = results(platform, organizer[1], ticketed["event_id"], scan(secret, f"d{n}"))
        return str(answer["result"])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(door, range(8)))
    assert sorted(answers) == ["already_used"] * 7 + ["valid"]


def test_forged_and_foreign_tickets_are_refused(  # type: ignore[no-untyped-def]
    platform, organizer, ticketed, event
) -> None:
    secret = ticketed["tickets"][0]["secret"]
    payload, signature = secret.split(".")
    other_signature = ticketed["tickets"][1]["secret"].split(".")[1]
    answers = results(
        platform,
        organizer[1],
        ticketed["event_id"],
        scan("not a ticket"),
        scan(f"{payload}.{other_signature}"),  # a real signature, of another ticket
        scan(f"{payload}x.{signature}"),
    )
    assert [a["result"] for a in answers] == ["invalid"] * 3
    assert answers[0]["detail"] == "This is not a genuine ticket."

    # A genuine ticket shown at the door of another event of the same organizer.
    other_event = platform.event(organizer[1])
    [wrong] = results(platform, organizer[1], other_event["event_id"], scan(secret))
    assert wrong["result"] == "wrong_event"
    assert wrong["event_id"] == ticketed["event_id"]
    # None of it checked the ticket in.
    [valid] = results(platform, organizer[1], ticketed["event_id"], scan(secret))
    assert valid["result"] == "valid"


def test_a_refunded_ticket_is_revoked_and_on_the_revocation_list(  # type: ignore[no-untyped-def]
    platform, organizer, ticketed
) -> None:
    event_id, booking = ticketed["event_id"], ticketed["booking"]
    revocations_url = platform.url("booking", f"/api/v1/bookings/events/{event_id}/revocations")
    before = platform.http.get(revocations_url, headers=bearer(organizer[1])).json()
    assert before["tickets"] == []
    assert before["event_cancelled"] is False

    cancelled = platform.http.post(
        platform.url("booking", f"/api/v1/bookings/{booking['booking_id']}/cancel"),
        headers=bearer(ticketed["buyer"]),
    )
    assert cancelled.json()["status"] == "refunded"
    revoked = platform.http.get(revocations_url, headers=bearer(organizer[1])).json()
    assert {(t["ticket_id"], t["status"]) for t in revoked["tickets"]} == {
        (t["ticket_id"], "refunded") for t in ticketed["tickets"]
    }
    [answer] = results(platform, organizer[1], event_id, scan(ticketed["tickets"][0]["secret"]))
    assert answer["result"] == "revoked"
    assert answer["booking_status"] == "refunded"
    assert answer["first_scan"] is None


def test_the_organizers_staff_scan_and_nobody_else_does(  # type: ignore[no-untyped-def]
    platform, organizer, ticketed
) -> None:
    event_id, secret = ticketed["event_id"], ticketed["tickets"][0]["secret"]
    _, staff = platform.user("staff", organizer_id=organizer[0])
    rival_id, rival = platform.user("organizer")
    _, rivals_staff = platform.user("staff", organizer_id=rival_id)
    for token in (rival, rivals_staff, ticketed["buyer"]):
        assert_problem(check_in(platform, token, event_id, scan(secret)), 403)
        assert_problem(
            platform.http.get(
                platform.url("booking", f"/api/v1/bookings/events/{event_id}/revocations"),
                headers=bearer(token),
            ),
            403,
        )
    assert_problem(
        platform.http.post(
            platform.url("booking", f"/api/v1/bookings/events/{event_id}/checkins"),
            json={"scans": [scan(secret)]},
        ),
        401,
    )
    assert_problem(check_in(platform, staff, "no-such-event", scan(secret)), 404)
    [answer] = results(platform, staff, event_id, scan(secret, "staff-phone"))
    assert answer["result"] == "valid"
    [admin_answer] = results(platform, platform.admin_token, event_id, scan(secret))
    assert admin_answer["result"] == "already_used"


@pytest.mark.parametrize(
    "scans",
    [
        [],
        [scan("x")] * 201,
        [{"scan_id": "s", "secret": "x"}],  # no device
        [scan("x", scanned_at="2030-01-01T10:00:00")],  # no offset: whose 10 o'clock?
        [scan("x", device="a door")],  # an id, not a sentence
        [scan("x" * 1025)],
        [scan("x", extra=True)],
    ],
)
def test_malformed_syncs_are_422(platform, organizer, event, scans: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    assert_problem(check_in(platform, organizer[1], event["event_id"], *scans), 422)
