from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ticketing_search.deps import Backend
from ticketing_search.model import next_cursor
from ticketing_search.schemas import SearchPage, SearchParams, Suggestions, SuggestParams

router = APIRouter(prefix="/api/v1/search", tags=["search"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.get(
    "/events",
    response_model=SearchPage,
    summary="Search events on sale",
    responses={422: _PROBLEM, 503: _PROBLEM},
)
async def search_events(params: Annotated[SearchParams, Query()], backend: Backend) -> SearchPage:
    query = params.to_query(datetime.now(UTC))
    result = await backend.search(query)
    return SearchPage.model_validate(
        {
            "items": result.items,
            "total": result.total,
            "facets": result.facets,
            "next_cursor": next_cursor(query, result.total),
        }
    )


@router.get(
    "/suggest",
    response_model=Suggestions,
    summary="Event titles for what has been typed (prefix, typo tolerant)",
    responses={422: _PROBLEM, 503: _PROBLEM},
)
async def suggest(params: Annotated[SuggestParams, Query()], backend: Backend) -> Suggestions:
    titles = await backend.suggest(params.q, params.limit, datetime.now(UTC))
    return Suggestions(suggestions=titles)
