from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from ticketing_common.fastpath import parse_query, query_parameters
from ticketing_common.http_cache import cached_response, public_cache_control
from ticketing_common.problems import PROBLEM
from ticketing_common.resources import provided_by

from ticketing_search.backend import SearchBackend
from ticketing_search.model import next_cursor
from ticketing_search.schemas import SearchPage, SearchParams, Suggestions, SuggestParams

router = APIRouter(prefix="/api/v1/search", tags=["search"])

_CACHEABLE: dict[int | str, dict[str, Any]] = {
    200: {"description": "With a strong `ETag` and `Cache-Control: public, max-age=5`"},
    304: {"description": "`If-None-Match` names the current answer"},
}


def _backend(request: Request) -> SearchBackend:
    """Whichever backend is configured (OpenSearch, or the embedded PostgreSQL one)."""
    # An interface, provided with `as_type`: mypy refuses an abstract class as type[T].
    return provided_by(request.app, SearchBackend)  # type: ignore[type-abstract]


@router.get(
    "/events",
    response_model=SearchPage,
    summary="Search events on sale",
    responses=_CACHEABLE | {422: PROBLEM, 503: PROBLEM},
    openapi_extra={"parameters": query_parameters(SearchParams)},
)
async def search_events(request: Request) -> Response:
    # Served by FastPath (main.py): it reads its own query (documented above).
    params = parse_query(SearchParams, request)
    query = params.to_query(datetime.now(UTC))
    result = await _backend(request).search(query)
    page = SearchPage.model_validate(
        {
            "items": result.items,
            "total": result.total,
            "facets": result.facets,
            "next_cursor": next_cursor(query, result.total),
        }
    )
    cache_control = await public_cache_control(request)
    return cached_response(request, page.model_dump_json().encode(), cache_control)


@router.get(
    "/suggest",
    response_model=Suggestions,
    summary="Event titles for what has been typed (prefix, typo tolerant)",
    responses=_CACHEABLE | {422: PROBLEM, 503: PROBLEM},
    openapi_extra={"parameters": query_parameters(SuggestParams)},
)
async def suggest(request: Request) -> Response:
    # Served by FastPath (main.py), like the search.
    params = parse_query(SuggestParams, request)
    titles = await _backend(request).suggest(params.q, params.limit, datetime.now(UTC))
    body = Suggestions(suggestions=titles).model_dump_json().encode()
    return cached_response(request, body, await public_cache_control(request))
