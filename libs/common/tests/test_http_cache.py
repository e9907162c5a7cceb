"""Conditional GETs over real HTTP: a strong ETag, Cache-Control, 304 only for a matching
If-None-Match (any listed tag, weak or strong, or `*`)."""

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from ticketing_common.http_cache import accepts_gzip, cached_response, etag_of, matches, public
from ticketing_devkit.processes import serve_app

BODY = b'{"hello":"world"}'


async def thing(request: Request) -> Response:
    return cached_response(request, BODY, public(5))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_app(Starlette(routes=[Route("/thing", thing)])) as base:
        yield base


def test_an_unconditional_get_carries_the_validator(url: str) -> None:
    response = httpx.get(f"{url}/thing")
    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["etag"] == etag_of(BODY)
    assert response.headers["cache-control"] == "public, max-age=5"


def test_the_same_representation_is_not_sent_twice(url: str) -> None:
    tag = etag_of(BODY)
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        response = httpx.get(f"{url}/thing", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
        assert response.headers["cache-control"] == "public, max-age=5"
    changed = httpx.get(f"{url}/thing", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200
    assert changed.content == BODY


def test_tags_differ_with_the_bytes_and_not_between_instances() -> None:
    assert etag_of(BODY) == etag_of(bytes(BODY))
    assert etag_of(BODY) != etag_of(BODY + b" ")
    assert etag_of(BODY)[0] == etag_of(BODY)[-1] == '"'
    assert not matches(None, etag_of(BODY))
    assert not matches("", etag_of(BODY))


def test_gzip_is_accepted_only_where_the_header_says_so() -> None:
    for header in ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*", "x-gzip"):
        assert accepts_gzip(header), header
    for header in (None, "", "identity", "br", "gzip;q=0", "gzip;q=0, *", "*;q=0", "gzip;q=x"):
        assert not accepts_gzip(header), header
