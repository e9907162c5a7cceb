"""Opaque page cursors: the keyset position of a page's last item, base64url-encoded JSON.

A cursor the API did not issue (or one of another list's shape) is a 422 on `cursor`, never a
500 or a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, Field

from ticketing_common.problems import Problem, unprocessable

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """A page of a list (`?limit=&cursor=`); a route's answer is a named subclass of one,
    `class UserPage(Page[User])`, so its schema keeps the name."""

    items: list[Item]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


def encode(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


Row = TypeVar("Row")


def page_of(
    rows: Sequence[Row],
    limit: int,
    position: Callable[[Row], list[Any]],
    view: Callable[[Row], Any] = lambda row: row,
) -> dict[str, Any]:
    """A `Page` of rows read `limit + 1` at a time: the first `limit` as `view` shows them, and
    when there was one more, the cursor of the last one's keyset `position`."""
    shown = rows[:limit]
    more = len(rows) > limit
    return {
        "items": [view(row) for row in shown],
        "next_cursor": encode(position(shown[-1])) if more else None,
    }


def invalid_cursor() -> Problem:
    return unprocessable((["query", "cursor"], "not a cursor this API issued", "invalid_cursor"))


def decode(cursor: str) -> Any:
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid_cursor() from None


def decode_time_position(cursor: str) -> tuple[datetime, str]:
    """(an aware time, an id): the position in a list ordered by a timestamp, then an id."""
    position = decode(cursor)
    if not (
        isinstance(position, list)
        and len(position) == 2
        and all(isinstance(part, str) for part in position)
    ):
        raise invalid_cursor()
    try:
        at = datetime.fromisoformat(position[0])
    except ValueError:
        raise invalid_cursor() from None
    if at.tzinfo is None:
        raise invalid_cursor()
    return at, position[1]
