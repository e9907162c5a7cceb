"""One email per booking fact, through a real SMTP server process (the devkit mail catcher)."""

from typing import Any

import httpx
from ticketing_common.facts import BookingConfirmed
from ticketing_devkit.pytest_plugin import assert_problem
from ticketing_notification.content import qr_png

Stack = Any  # the `stack` fixture (conftest): a running notification service and its bus
Catcher = Any  # the `catcher` fixture: the mail catcher process


def test_a_confirmed_booking_emails_the_tickets_with_their_qr_codes(
    stack: Stack, catcher: Catcher
) -> None:
    user = stack.peers.add_user("Ada Lovelace")
    event_id = stack.peers.add_event("Metallica World Tour")
    fact: BookingConfirmed = stack.fact("booking.confirmed", user["id"], event_id, tickets=2)
    stack.publish(fact)
    (message,) = stack.eventually(lambda: catcher.to(user["email"]))

    assert message["Subject"] == "Your tickets for Metallica World Tour"
    assert message["To"] == f"Ada Lovelace <{user['email']}>"
    assert message["From"] == "Ticketing <tickets@ticketing.dev>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Hello Ada Lovelace" in body
        assert "100.00 EUR" in body
        assert "Olympiastadion, Berlin" in body
        assert "Thursday 24 December 2026, 19:30 UTC" in body
        assert fact.booking_id in body
        for ticket in fact.tickets:
            assert ticket.seat_id in body
            assert ticket.secret not in body  # only inside the QR code

    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 2
    for ticket in fact.tickets:
        cid = f"qr-{ticket.ticket_id}@ticketing"
        (image,) = [part for part in images if part["Content-ID"] == f"<{cid}>"]
        assert f'src="cid:{cid}"' in html
        assert image.get_content_disposition() == "inline"
        assert image.get_filename() == f"ticket-{ticket.ticket_id}.png"
        # The image is the QR code of this ticket's payload (what gates scan).
        assert image.get_content() == qr_png(ticket.qr_payload)
        assert ticket.qr_payload == f"ticketing:{ticket.ticket_id}:{ticket.secret}"


def test_each_kind_of_booking_fact_has_its_own_email(stack: Stack, catcher: Catcher) -> None:
    user = stack.peers.add_user("Grace Hopper")
    event_id = stack.peers.add_event("Jazz at Night")
    kinds = {
        "booking.cancelled": "Your booking for Jazz at Night is cancelled",
        "booking.refunded": "Your refund for Jazz at Night",
        "booking.failed": "Your booking for Jazz at Night did not go through",
    }
    facts = {kind: stack.fact(kind, user["id"], event_id, reason="card declined") for kind in kinds}
    for fact in facts.values():
        stack.publish(fact)
    messages = stack.eventually(
        lambda: len(catcher.to(user["email"])) == 3 and catcher.to(user["email"])
    )
    assert sorted(m["Subject"] for m in messages) == sorted(kinds.values())
    refund = next(m for m in messages if m["Subject"] == kinds["booking.refunded"])
    assert "refunded 100.00 EUR" in refund.get_body(("plain",)).get_content()
    failed = next(m for m in messages if m["Subject"] == kinds["booking.failed"])
    assert "card declined" in failed.get_body(("html",)).get_content()
    assert not [p for m in messages for p in m.walk() if p.get_content_type() == "image/png"]


def test_an_expired_booking_sends_nothing(stack: Stack, catcher: Catcher) -> None:
    user = stack.peers.add_user()
    event_id = stack.peers.add_event()
    stack.publish(stack.fact("booking.expired", user["id"], event_id))
    stack.publish(stack.fact("booking.failed", user["id"], event_id))  # handled after it
    (message,) = stack.eventually(lambda: catcher.to(user["email"]))
    assert message["Subject"].endswith("did not go through")
    assert [n["kind"] for n in stack.notifications(user["id"]).json()] == ["booking.failed"]


def test_an_event_unknown_to_events_still_gets_its_email(stack: Stack, catcher: Catcher) -> None:
    user = stack.peers.add_user()
    stack.publish(stack.fact("booking.confirmed", user["id"], "no-such-event", tickets=1))
    (message,) = stack.eventually(lambda: catcher.to(user["email"]))
    assert message["Subject"] == "Your tickets for your event"


def test_titles_cannot_inject_headers_or_markup(stack: Stack, catcher: Catcher) -> None:
    user = stack.peers.add_user('Eve <script>alert("x")</script>')
    event_id = stack.peers.add_event("Night\r\nBcc: victim@example.com <b>bold</b>")
    stack.publish(stack.fact("booking.cancelled", user["id"], event_id))
    (message,) = stack.eventually(lambda: catcher.to(user["email"]))
    assert message["Bcc"] is None
    # (Long headers may be folded right after the colon; unfolding leaves a leading space.)
    assert message["Subject"].strip() == (
        "Your booking for Night Bcc: victim@example.com <b>bold</b> is cancelled"
    )
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html
    rcpts = [m["rcpt_tos"] for m in catcher.messages() if user["email"] in m["rcpt_tos"]]
    assert rcpts == [[user["email"]]]


def test_the_log_lists_the_callers_sent_notifications(stack: Stack, catcher: Catcher) -> None:
    user, other = stack.peers.add_user(), stack.peers.add_user()
    event_id = stack.peers.add_event("Opera Gala")
    first = stack.fact("booking.confirmed", user["id"], event_id, tickets=1)
    second = stack.fact("booking.refunded", user["id"], event_id)
    stack.publish(first)
    stack.eventually(lambda: catcher.to(user["email"]))
    stack.publish(second)
    stack.eventually(lambda: len(catcher.to(user["email"])) == 2)

    log = stack.notifications(user["id"])
    assert log.status_code == 200
    entries = log.json()
    assert [(e["kind"], e["booking_id"], e["subject"]) for e in entries] == [
        ("booking.refunded", second.booking_id, "Your refund for Opera Gala"),
        ("booking.confirmed", first.booking_id, "Your tickets for Opera Gala"),
    ]
    assert set(entries[0]) == {"notification_id", "kind", "subject", "sent_at", "booking_id"}
    assert entries[0]["sent_at"] >= entries[1]["sent_at"]
    limited = httpx.get(
        f"{stack.process.url}/api/v1/notifications?limit=1",
        headers={"Authorization": f"Bearer {stack.peers.token(user['id'])}"},
    )
    assert [e["kind"] for e in limited.json()] == ["booking.refunded"]
    with_slash = httpx.get(
        f"{stack.process.url}/api/v1/notifications/",
        headers={"Authorization": f"Bearer {stack.peers.token(user['id'])}"},
    )
    assert with_slash.status_code == 200
    assert with_slash.json() == entries
    assert stack.notifications(other["id"]).json() == []


def test_the_log_needs_a_valid_token_and_sane_parameters(stack: Stack) -> None:
    url = f"{stack.process.url}/api/v1/notifications"
    assert_problem(httpx.get(url), 401)
    assert_problem(httpx.get(url, headers={"Authorization": "Bearer not.a.token"}), 401)
    token = stack.peers.token("someone")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_problem(httpx.get(url, headers={"Authorization": f"Bearer {tampered}"}), 401)
    good = {"Authorization": f"Bearer {token}"}
    for limit in ("0", "201", "many"):
        assert_problem(httpx.get(f"{url}?limit={limit}", headers=good), 422)
