from ticketing_common.facts import BookingConfirmed, Envelope, Ticket


def test_a_tickets_qr_payload_names_the_ticket_and_its_secret() -> None:
    ticket = Ticket(ticket_id="t-1", seat_id="A-3-12", secret="s3cr3t")
    assert ticket.qr_payload == "ticketing:t-1:s3cr3t"
    assert (
        Ticket(ticket_id="t-2", seat_id="A-3-12", secret="s3cr3t").qr_payload != ticket.qr_payload
    )


def test_the_payload_is_not_part_of_the_fact_on_the_wire() -> None:
    fact = BookingConfirmed(
        booking_id="b",
        user_id="u",
        event_id="e",
        seat_ids=["A-3-12"],
        amount_cents=100,
        currency="EUR",
        tickets=[Ticket(ticket_id="t-1", seat_id="A-3-12", secret="s")],
    )
    envelope = Envelope.of(fact, "booking")
    assert envelope.data["tickets"] == [{"ticket_id": "t-1", "seat_id": "A-3-12", "secret": "s"}]
    assert envelope.fact() == fact
