"""A local mail catcher: an SMTP server (aiosmtpd) that keeps every message it receives, and a
small web UI to read them. `make dev` runs it for the notification service; tests use it as the
real SMTP server they send to.

python -m ticketing_devkit.mailcatcher --smtp-port 1025 --http-port 1080

Web UI: `/` lists messages, `/messages/<id>` shows one (HTML in a sandboxed frame, text, inline
images). JSON: `GET /api/messages`, `GET /api/messages/<id>`, `DELETE /api/messages`; the raw
message: `/messages/<id>.eml`.
"""

from __future__ import annotations

import argparse
import html
import itertools
import re
import signal
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote

import orjson
from aiosmtpd.controller import Controller

MAX_MESSAGES = 1000


@dataclass(frozen=True)
class CaughtMessage:
    id: int
    received_at: datetime
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    def parsed(self) -> EmailMessage:
        message = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(message, EmailMessage)
        return message

    def summary(self) -> dict[str, Any]:
        message = self.parsed()
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "mail_from": self.mail_from,
            "rcpt_tos": self.rcpt_tos,
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
        }

    def detail(self) -> dict[str, Any]:
        message = self.parsed()
        text = message.get_body(("plain",))
        body = message.get_body(("html",))
        parts = [
            {
                "content_type": part.get_content_type(),
                "filename": part.get_filename(),
                "content_id": _cid(part),
                "size": len(_bytes(part)),
            }
            for part in message.walk()
            if not part.is_multipart() and part not in (text, body)
        ]
        return self.summary() | {
            "headers": [[name, str(value)] for name, value in message.items()],
            "text": text.get_content() if text is not None else None,
            "html": body.get_content() if body is not None else None,
            "parts": parts,
        }

    def part_by_cid(self, content_id: str) -> tuple[str, bytes] | None:
        for part in self.parsed().walk():
            if _cid(part) == content_id:
                return part.get_content_type(), _bytes(part)
        return None


def _bytes(part: Any) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _cid(part: Any) -> str | None:
    value = part.get("Content-ID")
    return str(value).strip().strip("<>") if value else None


class MailStore:
    """Thread-safe: the SMTP server adds from its thread, the web UI reads from others."""

    def __init__(self, limit: int = MAX_MESSAGES) -> None:
        self.limit = limit
        self._messages: OrderedDict[int, CaughtMessage] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> CaughtMessage:
        with self._lock:
            message = CaughtMessage(next(self._ids), datetime.now(UTC), mail_from, rcpt_tos, raw)
            self._messages[message.id] = message
            while len(self._messages) > self.limit:
                self._messages.popitem(last=False)
            return message

    def all(self) -> list[CaughtMessage]:
        with self._lock:
            return list(reversed(self._messages.values()))

    def get(self, message_id: int) -> CaughtMessage | None:
        with self._lock:
            return self._messages.get(message_id)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


class _SmtpHandler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = self.store.add(
            str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], bytes(envelope.content)
        )
        print(f"caught message {message.id} for {', '.join(message.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse}}
td,th{{padding:6px 10px;border-bottom:1px solid #ddd;text-align:left}}a{{color:#3355cc}}
pre{{background:#f6f6f6;padding:12px;white-space:pre-wrap}}
iframe{{width:100%;height:640px;border:1px solid #ddd}}</style></head><body>{body}</body></html>"""


def _page(title: str, body: str) -> bytes:
    return _PAGE.format(title=html.escape(title), body=body).encode()


def _list_page(store: MailStore) -> bytes:
    rows = "".join(
        f"<tr><td>{m['received_at'][11:19]}</td><td>{html.escape(m['to'])}</td>"
        f"<td><a href='/messages/{m['id']}'>{html.escape(m['subject']) or '(no subject)'}</a>"
        f"</td></tr>"
        for m in (message.summary() for message in store.all())
    )
    table = "<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>" + rows + "</table>"
    return _page("Mail catcher", f"<h1>Caught mail</h1>{table if rows else '<p>No mail yet.</p>'}")


def _message_page(message: CaughtMessage) -> bytes:
    detail = message.detail()
    # Inline images are referenced as cid:...; point them at this server so they show.
    body = re.sub(
        r"cid:([^\"'\s>]+)",
        lambda found: f"/messages/{message.id}/cid/{quote(found.group(1))}",
        detail["html"] or "",
    )
    headers = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in detail["headers"]
        if name.lower() in ("from", "to", "subject", "date", "message-id")
    )
    parts = "".join(
        f"<li>{html.escape(p['content_type'])} {html.escape(p['filename'] or '')} "
        f"({p['size']} bytes)</li>"
        for p in detail["parts"]
    )
    sections = [
        "<p><a href='/'>&larr; all mail</a> · "
        f"<a href='/messages/{message.id}.eml'>raw message</a></p>",
        f"<table>{headers}</table>",
    ]
    if detail["html"] is not None:
        # sandbox: the message's HTML runs no scripts and cannot touch this page.
        sections.append(f'<h2>HTML</h2><iframe sandbox srcdoc="{html.escape(body)}"></iframe>')
    if detail["text"] is not None:
        sections.append(f"<h2>Text</h2><pre>{html.escape(detail['text'])}</pre>")
    if parts:
        sections.append(f"<h2>Other parts</h2><ul>{parts}</ul>")
    return _page(detail["subject"], "".join(sections))


def _handler_for(store: MailStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the catcher prints one line per caught message instead."""

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, value: Any, status: int = 200) -> None:
            self._send(status, orjson.dumps(value), "application/json")

        def _not_found(self) -> None:
            self._send(404, b"not found", "text/plain")

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(200, _list_page(store), "text/html; charset=utf-8")
            elif path == "/api/messages":
                self._json([message.summary() for message in store.all()])
            elif found := re.fullmatch(r"/api/messages/(\d+)", path):
                message = store.get(int(found.group(1)))
                self._json(message.detail()) if message else self._not_found()
            elif found := re.fullmatch(r"/messages/(\d+)\.eml", path):
                message = store.get(int(found.group(1)))
                self._send(200, message.raw, "message/rfc822") if message else self._not_found()
            elif found := re.fullmatch(r"/messages/(\d+)", path):
                message = store.get(int(found.group(1)))
                if message:
                    self._send(200, _message_page(message), "text/html; charset=utf-8")
                else:
                    self._not_found()
            elif found := re.fullmatch(r"/messages/(\d+)/cid/(.+)", path):
                message = store.get(int(found.group(1)))
                part = message.part_by_cid(unquote(found.group(2))) if message else None
                self._send(200, part[1], part[0]) if part else self._not_found()
            else:
                self._not_found()

        def do_DELETE(self) -> None:
            if self.path == "/api/messages":
                store.clear()
                self._send(204, b"", "text/plain")
            else:
                self._not_found()

    return Handler


class MailCatcher:
    """Both servers, started and stopped together."""

    def __init__(self, host: str = "127.0.0.1", smtp_port: int = 1025, http_port: int = 1080):
        self.store = MailStore()
        self.smtp = Controller(_SmtpHandler(self.store), hostname=host, port=smtp_port)
        self.http = ThreadingHTTPServer((host, http_port), _handler_for(self.store))
        self._http_thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def start(self) -> MailCatcher:
        self.smtp.start()
        self._http_thread.start()
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.smtp.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mailcatcher", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=1080)
    args = parser.parse_args(argv)
    catcher = MailCatcher(args.host, args.smtp_port, args.http_port).start()
    print(
        f"mail catcher: SMTP on {args.host}:{args.smtp_port}, "
        f"web UI on http://{args.host}:{args.http_port}/",
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    catcher.stop()


if __name__ == "__main__":
    main()
