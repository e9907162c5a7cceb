import pytest
import segno
from ticketing_booking.tickets import qr_svg


def test_a_ticket_qr_code_is_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "eyJ2IjoxfQ.c2lnbmF0dXJl-a-secret-only-this-test-uses"
    first = qr_svg(secret)
    assert first.lstrip().startswith("<svg")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(segno, "make", refuse)
    assert qr_svg(secret) is first
    with pytest.raises(AssertionError, match="rendered again"):
        qr_svg(secret + "-another")
