"""The embedded backend: PostgreSQL full-text search (weighted tsvector) for matching and ranking,
pg_trgm word similarity for typos and suggestions. Used where no OpenSearch is configured."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, TextualSelect, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from ticketing_common.database import Database

from ticketing_search.backend import (
    DocumentRejected,
    ReindexFailed,
    ReindexReport,
    SearchBackend,
    SearchUnavailable,
)
from ticketing_search.model import SearchDocument, SearchQuery, SearchResult
from ticketing_search.tables import reindex_staging, search_documents

log = logging.getLogger(__name__)

# How alike (pg_trgm word_similarity, 0..1) a query must be to some stretch of an event's
# title, venue and city to count as a typo'd match. 0.5 admits one wrong, missing or extra
# letter in words of six letters and more, and keeps short unrelated words out.
TYPO_SIMILARITY = 0.5
# Shorter words match exactly: a typo in a three-letter word is too close to another word.
MIN_TYPO_WORD = 4
MAX_QUERY_WORDS = 12
FACET_SIZE = 50
REINDEX_LOCK = 0x5EA2C4  # pg advisory lock id: one reindex at a time

_DOCUMENT_FIELDS = (
    "title",
    "description",
    "category",
    "venue_name",
    "city",
    "country",
    "starts_at",
    "min_price_cents",
    "currency",
)
_HIT_FIELDS = "event_id, title, venue_name, city, category, starts_at, min_price_cents, currency"
# Values are folded in scalar subqueries: evaluated once per query (an InitPlan), not per row,
# and usable as index conditions.
_TSQUERY = "(SELECT websearch_to_tsquery('english', search_fold(:q)))"
# LIKE pattern: the folded text typed so far, its wildcards escaped, then anything.
_LIKE_PREFIX = (
    r"(SELECT replace(replace(replace(search_fold(:q), '\', '\\'), '%', '\%'), '_', '\_') || '%')"
)
_SET_THRESHOLD = text("SELECT set_config('pg_trgm.word_similarity_threshold', :value, true)")


class PostgresSearch(SearchBackend):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def check(self) -> None:
        await self.database.check()

    async def upsert(self, document: SearchDocument, version: datetime) -> None:
        values = document.model_dump(include=set(_DOCUMENT_FIELDS))
        await self._write(
            {"event_id": document.event_id, "listed": document.listed, **values}, version
        )

    async def remove(self, event_id: str, version: datetime) -> None:
        # A tombstone: nothing searchable, only the version that keeps late facts out.
        blank = dict.fromkeys(_DOCUMENT_FIELDS, "") | {"starts_at": None, "min_price_cents": None}
        await self._write({"event_id": event_id, "listed": False, **blank}, version)

    async def _write(self, row: dict[str, Any], version: datetime) -> None:
        statement = insert(search_documents).values(**row, version=version)
        changes = {"listed": statement.excluded.listed, "version": statement.excluded.version}
        changes |= {name: statement.excluded[name] for name in _DOCUMENT_FIELDS}
        statement = statement.on_conflict_do_update(
            index_elements=[search_documents.c.event_id],
            set_=changes,
            where=search_documents.c.version <= statement.excluded.version,
        )
        try:
            async with self.database.engine.begin() as conn:
                await conn.execute(statement)
        except DataError as exc:  # e.g. an id longer than the column
            raise DocumentRejected(str(exc.orig)) from exc

    async def search(self, query: SearchQuery) -> SearchResult:
        try:
            async with self.database.engine.begin() as conn:
                words = await _content_words(conn, query.q) if query.q else []
                statement, params = search_statement(query, words)
                await _typo_threshold(conn)
                row = (await conn.execute(statement, params)).one()
        except (OSError, OperationalError, InterfaceError) as exc:
            raise SearchUnavailable("the database does not answer") from exc
        return SearchResult(
            items=list(row.items),
            total=int(row.total),
            facets={"city": dict(row.cities), "category": dict(row.categories)},
        )

    async def suggest(self, prefix: str, limit: int, starts_from: datetime) -> list[str]:
        # Each typed word must start a word of the title or, if long enough, be close to one;
        # titles that start with the whole text come first, then the closest.
        params: dict[str, Any] = {"q": prefix, "limit": limit, "starts_from": starts_from}
        conditions = ["d.listed", "d.starts_at >= :starts_from"]
        for index, term in enumerate(_words(prefix)):
            name = f"w{index}"
            params[name] = term
            pattern = f"(SELECT replace(search_fold(:{name}), '_', '\\_'))"
            match = f"d.title_folded LIKE {pattern} || '%'"
            match += f" OR d.title_folded LIKE '% ' || {pattern} || '%'"
            if len(term) >= MIN_TYPO_WORD:
                match += f" OR (SELECT search_fold(:{name})) <% d.title_folded"
            conditions.append(f"({match})")
        if len(conditions) == 2:  # nothing word-like was typed
            return []
        sql = text(
            f"""
            WITH candidates AS (
                SELECT DISTINCT ON (d.title_folded) d.title,
                    d.title_folded LIKE {_LIKE_PREFIX} AS starts_with,
                    word_similarity((SELECT search_fold(:q)), d.title_folded) AS similarity
                FROM search_documents AS d
                WHERE {" AND ".join(conditions)}
                ORDER BY d.title_folded, d.starts_at
            )
            SELECT title FROM candidates
            ORDER BY starts_with DESC, similarity DESC, title LIMIT :limit
            """  # noqa: S608 - fixed fragments; values are bound
        )
        try:
            async with self.database.engine.begin() as conn:
                await _typo_threshold(conn)
                return [row.title for row in await conn.execute(sql, params)]
        except (OSError, OperationalError, InterfaceError) as exc:
            raise SearchUnavailable("the database does not answer") from exc

    async def reindex(
        self, pages: AsyncIterator[list[SearchDocument]], started_at: datetime
    ) -> ReindexReport:
        async with self.database.engine.connect() as conn:
            locked = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": REINDEX_LOCK}
            )
            await conn.commit()
            if not locked:
                raise ReindexFailed("another reindex is running")
            try:
                return await self._reindex(conn, pages, started_at)
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": REINDEX_LOCK})
                await conn.commit()

    async def _reindex(
        self,
        conn: AsyncConnection,
        pages: AsyncIterator[list[SearchDocument]],
        started_at: datetime,
    ) -> ReindexReport:
        await conn.execute(text("TRUNCATE search_reindex_staging"))
        await conn.commit()
        staged = 0
        async for page in pages:
            rows = [
                {"event_id": doc.event_id, **doc.model_dump(include=set(_DOCUMENT_FIELDS))}
                for doc in page
                if doc.listed
            ]
            if rows:
                statement = insert(reindex_staging).values(rows)
                statement = statement.on_conflict_do_update(
                    index_elements=[reindex_staging.c.event_id],
                    set_={name: statement.excluded[name] for name in _DOCUMENT_FIELDS},
                )
                await conn.execute(statement)
                await conn.commit()
                staged += len(rows)
        columns = ", ".join(_DOCUMENT_FIELDS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in _DOCUMENT_FIELDS)
        # One transaction: searches see the old rows until it commits. A fact newer than the
        # snapshot's start (version > started_at) wins over the snapshot.
        await conn.execute(
            text(
                f"""
                INSERT INTO search_documents (event_id, listed, version, {columns})
                SELECT event_id, true, :started_at, {columns} FROM search_reindex_staging
                ON CONFLICT (event_id) DO UPDATE SET listed = true, version = excluded.version,
                    {updates}
                WHERE search_documents.version <= excluded.version
                """  # noqa: S608 - column names only
            ),
            {"started_at": started_at},
        )
        unlisted = await conn.execute(
            text(
                """
                UPDATE search_documents AS d SET listed = false, version = :started_at
                WHERE d.listed AND d.version < :started_at AND NOT EXISTS (
                    SELECT 1 FROM search_reindex_staging AS s WHERE s.event_id = d.event_id
                )
                """
            ),
            {"started_at": started_at},
        )
        await conn.execute(text("TRUNCATE search_reindex_staging"))
        await conn.commit()
        await conn.execute(text("ANALYZE search_documents"))  # the planner sees the new data
        await conn.commit()
        log.info("reindexed", extra={"indexed": staged, "unlisted": unlisted.rowcount})
        return ReindexReport(indexed=staged, target="search_documents")


def search_statement(query: SearchQuery, words: list[str]) -> tuple[TextualSelect, dict[str, Any]]:
    """The search as one SQL statement and its parameters. `words` are the query's words that
    are not stop words (see _content_words)."""
    conditions = ["listed", "starts_at >= :starts_from"]
    params: dict[str, Any] = {
        "starts_from": query.starts_from,
        "limit": query.limit,
        "offset": query.offset,
        "facet_size": FACET_SIZE,
    }
    if query.starts_until is not None:
        conditions.append("starts_at <= :starts_until")
        params["starts_until"] = query.starts_until
    if query.price_max_cents is not None:
        conditions.append("min_price_cents <= :price_max")
        params["price_max"] = query.price_max_cents
    order = "starts_at, event_id"
    if query.q:
        params["q"] = query.q
        # Every word must match somewhere in the event: as a (stemmed) word, or, for words
        # long enough to have typos, as a close trigram match. Both are index conditions.
        for index, term in enumerate(words):
            name = f"w{index}"
            params[name] = term
            match = f"document @@ (SELECT plainto_tsquery('english', search_fold(:{name})))"
            if len(term) >= MIN_TYPO_WORD:
                match += f" OR (SELECT search_fold(:{name})) <% search_text"
            conditions.append(f"({match})")
        if not words:  # only stop words ("the who"): the text itself, as written
            conditions.append("search_text LIKE '%' || (SELECT search_fold(:q)) || '%'")
        score = f"ts_rank_cd(document, {_TSQUERY}, 1)"
        score += " + word_similarity((SELECT search_fold(:q)), search_text)"
        order = f"{score} DESC, {order}"
    in_city = in_category = "true"
    if query.city:
        in_city = "city_folded = (SELECT search_fold(:city))"
        params["city"] = query.city
    if query.category:
        in_category = "category_folded = (SELECT search_fold(:category))"
        params["category"] = query.category
    # One round trip; `matched` (filters that are not facets) is computed once and read by
    # the page, the total and each facet (which leaves out its own filter). Only the page's
    # candidates are scored. The SQL is put together from fixed fragments only; every value
    # is a bound parameter.
    sql = f"""
        WITH matched AS MATERIALIZED (
            SELECT {_HIT_FIELDS}, document, search_text,
                   {in_city} AS in_city, {in_category} AS in_category
            FROM search_documents
            WHERE {" AND ".join(conditions)}
        )
        SELECT
            (SELECT count(*) FROM matched WHERE in_city AND in_category) AS total,
            (SELECT coalesce(json_agg(page), '[]') FROM (
                SELECT {_HIT_FIELDS} FROM matched WHERE in_city AND in_category
                ORDER BY {order}
                LIMIT :limit OFFSET :offset
            ) AS page) AS items,
            (SELECT coalesce(json_object_agg(city, n ORDER BY n DESC, city), '{{}}') FROM (
                SELECT city, count(*) AS n FROM matched WHERE in_category
                GROUP BY city ORDER BY n DESC, city LIMIT :facet_size
            ) AS cities) AS cities,
            (SELECT coalesce(json_object_agg(category, n ORDER BY n DESC, category), '{{}}')
             FROM (
                SELECT category, count(*) AS n FROM matched WHERE in_city
                GROUP BY category ORDER BY n DESC, category LIMIT :facet_size
            ) AS categories) AS categories
    """  # noqa: S608
    statement = text(sql).columns(total=Integer, items=JSON, cities=JSON, categories=JSON)
    return statement, params


async def _content_words(conn: AsyncConnection, q: str) -> list[str]:
    """The query's words that full-text search keeps (not stop words such as "the"), so each
    one can be an index condition."""
    rows = await conn.execute(
        text(
            "SELECT word FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS w(word, n)"
            " WHERE numnode(plainto_tsquery('english', search_fold(word))) > 0 ORDER BY n"
        ),
        {"words": _words(q)},
    )
    return [row.word for row in rows]


def _words(q: str) -> list[str]:
    return re.findall(r"\w+", q)[:MAX_QUERY_WORDS]


async def _typo_threshold(conn: AsyncConnection) -> None:
    # Local to the transaction: the `<%` operator (which the trigram index serves) reads it.
    await conn.execute(_SET_THRESHOLD, {"value": str(TYPO_SIMILARITY)})
