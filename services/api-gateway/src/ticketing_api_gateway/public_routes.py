"""Which public requests need no token at the edge. Everything else does: the gateway answers 401
without calling the service when the token is missing or invalid.

The services still verify tokens themselves (the gateway forwards Authorization unchanged), so
this table can only make the edge stricter than the services, never looser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# (method, path pattern); `{name}` stands for one path segment. GET also admits HEAD.
PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/jwks"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/{event_id}"),
    ("GET", "/api/v1/events/{event_id}/seatmap"),
    ("GET", "/api/v1/events/{event_id}/layout"),
    # Whether an event's on-sale runs through a waiting room: the event page asks, signed in
    # or not.
    ("GET", "/api/v1/events/{event_id}/waiting-room"),
    ("GET", "/api/v1/venues/{venue_id}"),
    ("GET", "/api/v1/search/events"),
    ("GET", "/api/v1/search/suggest"),
    ("GET", "/api/v1/inventory/events/{event_id}/availability"),
    ("GET", "/api/v1/inventory/events/{event_id}/availability/bits"),
    # Scanners verify ticket signatures offline with this key; it is public by design.
    ("GET", "/api/v1/bookings/tickets/public-key"),
    # Stripe authenticates with its signature header, which the payment service verifies.
    ("POST", "/api/v1/payments/webhooks/stripe"),
)

_SEGMENT = r"[^/]+"
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


class PublicRoutes:
    def __init__(self, routes: Iterable[tuple[str, str]] = PUBLIC_ROUTES) -> None:
        patterns: dict[str, list[str]] = {}
        for method, pattern in routes:
            methods = ("GET", "HEAD") if method == "GET" else (method,)
            for each in methods:
                patterns.setdefault(each, []).append(_compile(pattern))
        # One alternation per method: a single regex match per request.
        self._by_method = {
            method: re.compile("|".join(f"(?:{p})" for p in found))
            for method, found in patterns.items()
        }

    def is_public(self, method: str, path: str) -> bool:
        regex = self._by_method.get(method)
        return regex is not None and regex.fullmatch(path) is not None


def _compile(pattern: str) -> str:
    parts = _PARAM.split(pattern)
    return _SEGMENT.join(re.escape(part) for part in parts)
