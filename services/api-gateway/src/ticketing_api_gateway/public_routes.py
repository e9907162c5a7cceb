"""Which public requests need no token at the edge: the ones their service declares anonymous.
Everything else needs a valid token: the gateway answers 401 without calling the service.

A service declares a route anonymous by the route itself (an `OptionalUser`, or no user at all),
and its OpenAPI document says so (`ticketing_common.security.document_anonymous_access`: the
operation's security admits `{}`, or there is none). The gateway learns it from each upstream's
/openapi.json: at start, every OPENAPI_CACHE_S after, and at once when a token-less request
reaches an upstream whose document it has never had (make dev starts the gateway beside the
services, not after them). Nothing is listed in the gateway, so no new route needs an edit here.

The safe defaults: an upstream opens only paths under the prefixes routed to it; what its
document does not declare anonymous needs a token; a document that cannot be fetched again keeps
the last declarations (a restarting service stays browsable); while the gateway has never had an
upstream's document, a token-less request to it is a 503 with Retry-After (it cannot tell yet).
The services still verify tokens themselves (the gateway forwards Authorization unchanged), so
this can only make the edge stricter than the services, never looser.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI

from ticketing_api_gateway.openapi import INCOMPLETE_TTL_S, fetch_document, routed
from ticketing_api_gateway.upstreams import Upstreams

log = logging.getLogger(__name__)

HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"})
# The least time between two attempts at a document that could not be had: token-less requests
# to an upstream that is down do not each ask it again.
RETRY_S = 1.0

_SEGMENT = r"[^/]+"
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def anonymous_operations(document: dict[str, Any], prefixes: list[str]) -> list[tuple[str, str]]:
    """(method, path) of every operation of `document` under `prefixes` (never /internal) that
    a caller may use without a token: its security requirement admits `{}`, or it has none
    (neither its own nor the document's)."""
    default = document.get("security")
    found = []
    for path, item in document.get("paths", {}).items():
        if not isinstance(item, dict) or not routed(path, prefixes):
            continue
        for method, operation in item.items():
            if method.upper() not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            security = operation.get("security", default)
            if not security or {} in security:
                found.append((method.upper(), path))
    return found


class PublicRoutes:
    """The anonymous routes of each upstream: per upstream and method, one regex of its paths
    (`{name}` is one segment; GET also admits HEAD), so a request costs one match."""

    def __init__(self, declared: Mapping[str, Iterable[tuple[str, str]]]) -> None:
        self._by_upstream = {upstream: _by_method(routes) for upstream, routes in declared.items()}

    def is_public(self, upstream: str, method: str, path: str) -> bool:
        regex = self._by_upstream.get(upstream, {}).get(method)
        return regex is not None and regex.fullmatch(path) is not None


class AnonymousRoutes:
    """What each upstream declares anonymous, learnt from its OpenAPI document (`public`)."""

    def __init__(
        self,
        upstreams: Upstreams,
        routes: dict[str, list[str]],
        *,
        refresh_s: float,
        timeout_s: float,
    ) -> None:
        self.upstreams = upstreams
        self.routes = routes  # upstream base URL -> the prefixes routed to it
        self.refresh_s = refresh_s
        self.timeout_s = timeout_s
        self.public = PublicRoutes({})
        self._declared: dict[str, tuple[tuple[str, str], ...]] = {}
        self._learning: dict[str, asyncio.Task[bool]] = {}
        self._failed_at: dict[str, float] = {}

    def knows(self, upstream: str) -> bool:
        return upstream in self._declared

    async def learn(self, upstream: str) -> bool:
        """Fetch the upstream's document now (one fetch at a time per upstream, none within
        RETRY_S of a failed one); whether its declarations are known."""
        task = self._learning.get(upstream)
        if task is None:
            failed_at = self._failed_at.get(upstream)
            if failed_at is not None and time.monotonic() - failed_at < RETRY_S:
                return self.knows(upstream)
            task = asyncio.create_task(self._fetch(upstream))
            self._learning[upstream] = task
            task.add_done_callback(lambda _: self._learning.pop(upstream, None))
        return await asyncio.shield(task)

    async def run(self, app: FastAPI) -> None:
        """Every upstream's document at start, then every `refresh_s` (every INCOMPLETE_TTL_S
        while one has never been had)."""
        while True:
            known = await asyncio.gather(*(self.learn(upstream) for upstream in self.routes))
            wait = max(self.refresh_s, INCOMPLETE_TTL_S) if all(known) else INCOMPLETE_TTL_S
            await asyncio.sleep(wait)

    async def _fetch(self, upstream: str) -> bool:
        document = await fetch_document(self.upstreams, upstream, self.timeout_s)
        if document is None:
            self._failed_at[upstream] = time.monotonic()
            return self.knows(upstream)
        declared = tuple(sorted(anonymous_operations(document, self.routes[upstream])))
        if self._declared.get(upstream) != declared:
            self._declared[upstream] = declared
            self.public = PublicRoutes(self._declared)
            log.info(
                "the anonymous routes of an upstream",
                extra={"upstream": upstream, "routes": [f"{m} {p}" for m, p in declared]},
            )
        return True


def _by_method(routes: Iterable[tuple[str, str]]) -> dict[str, re.Pattern[str]]:
    patterns: dict[str, list[str]] = {}
    for method, pattern in routes:
        for each in ("GET", "HEAD") if method == "GET" else (method,):
            patterns.setdefault(each, []).append(_compile(pattern))
    # One alternation per method: a single regex match per request.
    return {
        method: re.compile("|".join(f"(?:{p})" for p in found))
        for method, found in patterns.items()
    }


def _compile(pattern: str) -> str:
    parts = _PARAM.split(pattern)
    return _SEGMENT.join(re.escape(part) for part in parts)
