"""HTTP caching for the public reads (RFC 9110 §8.8.3, §13.1.2; RFC 9111 §5.2): a strong ETag,
`Cache-Control`, and `304 Not Modified` when the client (a browser, or the CDN revalidating)
already holds this very representation.

Used by the reads that tolerate a few seconds of staleness (an event, the listing, search,
suggestions) and by immutable ones (a published event's layout). The CDN in front of the API
caches exactly those paths (infra's CloudFront behaviours).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

# An answer that may differ per caller (a draft shown to its owner): browsers may keep it but
# must ask again, shared caches never keep it.
PRIVATE = "private, no-cache"
# One caller's view that no cache may keep at all (an organizer's console lists).
NO_STORE = "private, no-store"


def public(max_age_s: int) -> str:
    """Cache-Control for an answer that is the same for everyone and may be `max_age_s` old."""
    return f"public, max-age={max_age_s}"


IMMUTABLE = "public, max-age=31536000, immutable"  # never changes at this URL


async def public_cache_control(conn: HTTPConnection) -> str:
    """The Cache-Control of this service's public reads that tolerate a few seconds of
    staleness (PUBLIC_CACHE_MAX_AGE_S, default 5)."""
    return public(conn.app.state.settings.public_cache_max_age_s)


PublicCacheControl = Annotated[str, Depends(public_cache_control)]


def etag_of(body: bytes) -> str:
    """A strong validator: the same bytes, the same tag, on every instance."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match against our tag: `*`, or any listed tag by the weak comparison (a W/ prefix
    does not matter for If-None-Match)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` admits gzip (RFC 9110 §12.5.3): gzip's own weight if it is
    named, else that of `*`; absent or `q=0`, no."""
    weights: dict[str, float] = {}
    for coding in (accept_encoding or "").split(","):
        name, _, params = coding.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.strip().lower()] = q
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def cached_response(
    request: Request,
    body: bytes,
    cache_control: str,
    *,
    etag: str | None = None,
    gzipped: bytes | None = None,
    media_type: str = "application/json",
) -> Response:
    """`body` with its ETag and Cache-Control, or a 304 with both when the caller has it. Only
    for GET/HEAD answers of 200. `gzipped`: the same body compressed once ahead of time, sent
    to clients that accept gzip as its own representation (its own strong tag, RFC 9110
    §8.8.3.3), so a large immutable answer costs no compression per request."""
    tag = etag or etag_of(body)
    headers = {"ETag": tag, "Cache-Control": cache_control}
    if gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.headers.get("accept-encoding")):
            body = gzipped
            headers["ETag"] = tag = tag[:-1] + '-gzip"'
            headers["Content-Encoding"] = "gzip"
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
