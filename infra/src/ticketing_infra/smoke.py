"""The production smoke test after a rollout: read-only requests against the deployed API, each
checking what a user (or a door scanner) needs from it. Nothing is created, changed or booked.

1. `GET /status` says `operational` (every service ready; otherwise which are not)
2. `GET /api/v1/events` lists events (the on-sale ones are kept for the cache warm-up)
3. `GET /api/v1/search/events` answers a search (for a word of a listed event's title)
4. `GET /api/v1/auth/jwks` publishes at least one signing key
5. `GET /api/v1/bookings/tickets/public-key` publishes the Ed25519 key tickets verify against

Every request carries a unique `smoke` query parameter and `Cache-Control: no-cache`, so an edge
cache in front of the API (whose cache key includes the query string) cannot answer for the
release. A connection error, a timeout or a 5xx is tried again twice (a load balancer that just
shifted traffic may drop a connection); a wrong answer fails at once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import urllib3

from ticketing_infra.progress import Progress

TIMEOUT = urllib3.Timeout(connect=5.0, read=15.0)
ATTEMPTS = 3
RETRY_PAUSE_S = 2.0
USER_AGENT = "ticketing-deploy-smoke/1"


class SmokeFailed(Exception):
    pass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class SmokeResult:
    ok: bool
    on_sale_event_ids: list[str] = field(default_factory=list)
    # The CDN that answered for the API (`Via`/`X-Cache` of CloudFront), None when none did.
    cdn: str | None = None


class Api:
    """GETs against the deployed API, JSON in, a few retries for transient failures."""

    def __init__(self, base_url: str, *, pause_s: float = RETRY_PAUSE_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.pause_s = pause_s
        self.http = urllib3.PoolManager(timeout=TIMEOUT, retries=False)

    def get(self, path: str, params: dict[str, str] | None = None, *, fresh: bool = True) -> Answer:
        query = dict(params or {})
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if fresh:  # past any edge cache: the answer must come from this release
            query["smoke"] = uuid.uuid4().hex[:12]
            headers["Cache-Control"] = "no-cache"
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        last = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self.http.request("GET", url, headers=headers)
            except urllib3.exceptions.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
            else:
                if response.status < 500:
                    return Answer(response.status, dict(response.headers), _json(response.data))
                last = f"{response.status} {response.data[:200].decode(errors='replace')}"
            if attempt < ATTEMPTS:
                time.sleep(self.pause_s)
        raise SmokeFailed(f"GET {path}: {last} (after {ATTEMPTS} attempts)")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return data[:200].decode(errors="replace")


def cdn_of(headers: dict[str, str]) -> str | None:
    """Which CDN answered, from what CloudFront adds to every response it serves."""
    lowered = {k.lower(): v for k, v in headers.items()}
    via, cache = lowered.get("via", ""), lowered.get("x-cache", "")
    if "cloudfront" in via.lower() or "cloudfront" in cache.lower():
        return "CloudFront"
    return None


def _expect(answer: Answer, what: str) -> Any:
    if answer.status != 200:
        raise SmokeFailed(f"{what}: HTTP {answer.status}: {str(answer.body)[:300]}")
    return answer.body


def check_status(api: Api) -> str:
    answer = api.get("/status")
    body = _expect(answer, "/status")
    verdict = body.get("status") if isinstance(body, dict) else None
    if verdict != "operational":
        failing = [
            f"{u.get('service') or u.get('url')} {u.get('status')}"
            for u in (body.get("upstreams", []) if isinstance(body, dict) else [])
            if u.get("status") != "ready"
        ]
        raise SmokeFailed(
            f"/status is {verdict!r}, not operational"
            + (f" (not ready: {', '.join(failing)})" if failing else "")
        )
    upstreams = len(body.get("upstreams", []))
    return f"/status operational ({upstreams} services ready)"


def check_events(api: Api, result: SmokeResult, titles: list[str]) -> str:
    answer = api.get("/api/v1/events", {"limit": "50"})
    result.cdn = cdn_of(answer.headers)
    body = _expect(answer, "/api/v1/events")
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise SmokeFailed(f"/api/v1/events: no items list in {str(body)[:200]}")
    for item in items:
        if not isinstance(item, dict) or "event_id" not in item:
            raise SmokeFailed(f"/api/v1/events: an item without event_id: {str(item)[:200]}")
    result.on_sale_event_ids = [i["event_id"] for i in items if i.get("status") == "on_sale"]
    titles.extend(str(i.get("title", "")) for i in items)
    return f"/api/v1/events lists {len(items)} events ({len(result.on_sale_event_ids)} on sale)"


def check_search(api: Api, titles: list[str]) -> str:
    word = next((w for t in titles for w in t.split() if len(w) >= 3), "")
    params = {"limit": "5", **({"q": word} if word else {})}
    body = _expect(api.get("/api/v1/search/events", params), "/api/v1/search/events")
    if not isinstance(body, dict) or not isinstance(body.get("items"), list) or "total" not in body:
        raise SmokeFailed(f"/api/v1/search/events: not a search page: {str(body)[:200]}")
    return f"/api/v1/search/events?q={word} finds {body['total']}"


def check_jwks(api: Api) -> str:
    body = _expect(api.get("/api/v1/auth/jwks"), "/api/v1/auth/jwks")
    keys = body.get("keys") if isinstance(body, dict) else None
    if not keys or not all(isinstance(k, dict) and k.get("kid") and k.get("kty") for k in keys):
        raise SmokeFailed(f"/api/v1/auth/jwks: no signing keys: {str(body)[:200]}")
    return f"/api/v1/auth/jwks publishes {len(keys)} key(s)"


def check_ticket_key(api: Api) -> str:
    path = "/api/v1/bookings/tickets/public-key"
    body = _expect(api.get(path), path)
    pem = body.get("public_key_pem", "") if isinstance(body, dict) else ""
    if body.get("algorithm") != "Ed25519" or "BEGIN PUBLIC KEY" not in pem:
        raise SmokeFailed(f"{path}: not an Ed25519 public key: {str(body)[:200]}")
    return f"{path}: Ed25519 key {body.get('kid', '')}".rstrip()


def run_smoke(api_url: str, progress: Progress, *, pause_s: float = RETRY_PAUSE_S) -> SmokeResult:
    """Every check in order, each reported; the first failure ends the smoke (ok=False)."""
    api = Api(api_url, pause_s=pause_s)
    result = SmokeResult(ok=False)
    titles: list[str] = []

    checks: list[Callable[[], str]] = [
        lambda: check_status(api),
        lambda: check_events(api, result, titles),
        lambda: check_search(api, titles),
        lambda: check_jwks(api),
        lambda: check_ticket_key(api),
    ]
    for check in checks:
        try:
            progress.ok(check())
        except SmokeFailed as failure:
            progress.fail(str(failure))
            return result
    result.ok = True
    return result
