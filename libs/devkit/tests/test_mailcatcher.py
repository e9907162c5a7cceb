import asyncio
import smtplib
import sys
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from ticketing_devkit.dev import _reachable, start_auxiliary
from ticketing_devkit.mailcatcher import MailCatcher
from ticketing_devkit.processes import free_port
from ticketing_devkit.stack import AuxiliaryProcess, auxiliary_processes, discover, service_env


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    running = MailCatcher(smtp_port=free_port(), http_port=free_port()).start()
    yield running
    running.stop()


def web(catcher: MailCatcher) -> str:
    return f"http://127.0.0.1:{catcher.http.server_address[1]}"


def a_message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Your tickets <b>now</b>"
    message["From"] = "tickets@ticketing.dev"
    message["To"] = "ada@example.com"
    message.set_content("plain words")
    message.add_alternative('<p>Hi</p><img src="cid:qr-1@x">', subtype="html")
    html_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
    html_part.add_related(b"\x89PNG fake", "image", "png", cid="<qr-1@x>", filename="qr.png")
    return message


def test_it_catches_mail_and_shows_it(catcher: MailCatcher) -> None:
    with smtplib.SMTP("127.0.0.1", catcher.smtp.port) as smtp:
        smtp.send_message(a_message())
    listed = httpx.get(f"{web(catcher)}/api/messages").json()
    assert [m["subject"] for m in listed] == ["Your tickets <b>now</b>"]
    assert listed[0]["rcpt_tos"] == ["ada@example.com"]

    detail = httpx.get(f"{web(catcher)}/api/messages/{listed[0]['id']}").json()
    assert detail["text"].strip() == "plain words"
    assert 'src="cid:qr-1@x"' in detail["html"]
    assert detail["parts"] == [
        {"content_type": "image/png", "filename": "qr.png", "content_id": "qr-1@x", "size": 9}
    ]

    index = httpx.get(web(catcher))
    assert "Your tickets &lt;b&gt;now&lt;/b&gt;" in index.text  # escaped, not rendered
    page = httpx.get(f"{web(catcher)}/messages/{listed[0]['id']}").text
    assert "<iframe sandbox" in page
    assert f"/messages/{listed[0]['id']}/cid/qr-1%40x" in page  # inline images resolve here
    image = httpx.get(f"{web(catcher)}/messages/{listed[0]['id']}/cid/qr-1%40x")
    assert (image.headers["content-type"], image.content) == ("image/png", b"\x89PNG fake")
    raw = httpx.get(f"{web(catcher)}/messages/{listed[0]['id']}.eml")
    assert b"Subject: Your tickets <b>now</b>" in raw.content

    assert httpx.delete(f"{web(catcher)}/api/messages").status_code == 204
    assert httpx.get(f"{web(catcher)}/api/messages").json() == []
    assert httpx.get(f"{web(catcher)}/messages/{listed[0]['id']}").status_code == 404


def test_every_service_is_pointed_at_the_catcher() -> None:
    specs = discover()
    mail = next(aux for aux in auxiliary_processes() if aux.name == "mail")
    for spec in specs:
        env = service_env(spec, specs, {})
        assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("127.0.0.1", str(mail.port))
    assert mail.args[1:3] == ("-m", "ticketing_devkit.mailcatcher")


async def test_make_dev_starts_the_catcher_as_a_process_and_reuses_a_running_one() -> None:
    smtp, http = free_port(), free_port()
    aux = AuxiliaryProcess(
        "mail",
        (
            sys.executable,
            "-m",
            "ticketing_devkit.mailcatcher",
            "--smtp-port",
            str(smtp),
            "--http-port",
            str(http),
        ),
        port=smtp,
        url=f"http://127.0.0.1:{http}",
    )
    pumps: list[asyncio.Task[None]] = []
    process = await start_auxiliary(aux, "mail |", pumps)
    assert process is not None
    try:
        assert await _reachable("127.0.0.1", smtp)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{aux.url}/api/messages")).json() == []
        assert await start_auxiliary(aux, "mail |", pumps) is None  # already there: reused
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
        for pump in pumps:
            pump.cancel()
