from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from ticketing_common.http_cache import PublicCacheControl, cached_response
from ticketing_common.problems import PROBLEM

from ticketing_search.deps import Backend
from ticketing_search.model import next_cursor
from ticketing_search.schemas import SearchPage, SearchParams, Suggestions, SuggestParams

router = APIRouter(prefix="/api/v1/search", tags=["search"])

_CACHEABLE: dict[int | str, dict[str, Any]] = {
    200: {"description": "With a strong `ETag` and `Cache-Control: public, max-age=5`"},
    304: {"description": "`If-None-Match` names the current answer"},
}


@router.get(
    "/events",
    response_model=SearchPage,
    summary="Search events on sale",
    responses=_CACHEABLE | {422: PROBLEM, 503: PROBLEM},
)
async def search_events(
    params: Annotated[SearchParams, Query()],
    backend: Backend,
    request: Request,
    cache_control: PublicCacheControl,
) -> Response:
    query = params.to_query(datetime.now(UTC))
    result = await backend.search(query)
    page = SearchPage.model_validate(
        {
            "items": result.items,
            "total": result.total,
            "facets": result.facets,
            "next_cursor": next_cursor(query, result.total),
        }
    )
    return cached_response(request, page.model_dump_json().encode(), cache_control)


@router.get(
    "/suggest",
    response_model=Suggestions,
    summary="Event titles for what has been typed (prefix, typo tolerant)",
    responses=_CACHEABLE | {422: PROBLEM, 503: PROBLEM},
)
async def suggest(
    params: Annotated[SuggestParams, Query()],
    backend: Backend,
    request: Request,
    cache_control: PublicCacheControl,
) -> Response:
    titles = await backend.suggest(params.q, params.limit, datetime.now(UTC))
    body = Suggestions(suggestions=titles).model_dump_json().encode()
    return cached_response(request, body, cache_control)
