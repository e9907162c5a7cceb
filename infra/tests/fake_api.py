"""The deployed API as the post-deploy smoke and the cache warm-up meet it: a real HTTP server on
127.0.0.1 answering the public read paths the way the gateway does (shapes from API.md), with
switches for what a bad release looks like, and a log of every request it got."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

EVENTS = [
    {"event_id": "evt-1", "title": "Midnight Orchestra", "status": "on_sale"},
    {"event_id": "evt-2", "title": "Harbour Jazz Night", "status": "on_sale"},
    {"event_id": "evt-3", "title": "Cancelled Tour", "status": "cancelled"},
]
PEM = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class FakeApi:
    status: str = "operational"
    cdn: bool = False  # answer like CloudFront does (Via, X-Cache)
    layouts: bool = True  # the API serves /api/v1/events/{id}/layout
    failing: set[str] = field(default_factory=set)  # paths answered 503
    requests: list[Request] = field(default_factory=list)
    on_request: Callable[[Request], None] | None = None
    url: str = ""

    def answer(self, path: str) -> tuple[int, Any]:
        if path in self.failing:
            return 503, {"title": "Service Unavailable", "status": 503}
        if path == "/status":
            upstreams = [
                {"service": "auth", "url": "http://auth.ticketing.local:8000", "status": "ready"},
                {
                    "service": "search",
                    "url": "http://search.ticketing.local:8000",
                    "status": "ready" if self.status == "operational" else "unreachable",
                },
            ]
            return 200, {"status": self.status, "upstreams": upstreams}
        if path == "/api/v1/events":
            return 200, {"items": EVENTS, "next_cursor": None}
        if path.startswith("/api/v1/events/"):
            parts = path.split("/")
            event_id = parts[4]
            if len(parts) == 5:
                return 200, next(e for e in EVENTS if e["event_id"] == event_id)
            if parts[5] == "layout" and self.layouts:
                return 200, {"event_id": event_id, "sections": []}
            return 404, {"title": "Not Found", "status": 404}
        if path == "/api/v1/search/events":
            return 200, {"items": EVENTS[:1], "total": 1, "facets": {}}
        if path == "/api/v1/auth/jwks":
            return 200, {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "abc"}]}
        if path == "/api/v1/bookings/tickets/public-key":
            return 200, {"algorithm": "Ed25519", "kid": "t1", "public_key_pem": PEM}
        return 404, {"title": "Not Found", "status": 404}

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def serve(api: FakeApi) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            request = Request(parts.path, parse_qs(parts.query), dict(self.headers))
            api.requests.append(request)
            status, body = api.answer(parts.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if api.cdn:
                self.send_header("Via", "1.1 0123abcd.cloudfront.net (CloudFront)")
                self.send_header("X-Cache", "Miss from cloudfront")
            self.end_headers()
            self.wfile.write(data)
            if api.on_request is not None:
                api.on_request(request)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
