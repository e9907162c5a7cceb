"""The production backend: OpenSearch (opensearch-py, async).

Searches read the alias (`events`), never a concrete index. A reindex or a mapping migration
builds a new versioned index while facts keep being written to both (through the `-building`
alias), then moves the alias in one atomic update: no moment without a complete index.
Documents carry external versions (the fact's time), so the older of two writes always loses.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError, SerializationError
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.helpers import async_streaming_bulk
from opensearchpy.serializer import JSONSerializer

from ticketing_search import opensearch_bodies as bodies
from ticketing_search.backend import (
    DocumentRejected,
    ReindexFailed,
    ReindexReport,
    SearchBackend,
    SearchUnavailable,
)
from ticketing_search.model import SearchDocument, SearchQuery, SearchResult

log = logging.getLogger(__name__)

Fill = Callable[[str], Awaitable[int]]


class OrjsonSerializer(JSONSerializer):
    """opensearch-py's JSON serializer on orjson: the standard library's json was a tenth of a
    search's CPU (a body of a few hundred bytes, an answer of a few KB). Text out, as the bulk
    helper measures it."""

    def dumps(self, data: Any) -> Any:
        if isinstance(data, str | bytes):
            return data
        try:
            return orjson.dumps(data, default=self.default).decode()
        except TypeError as exc:
            raise SerializationError(data, exc) from exc

    def loads(self, s: str) -> Any:
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError as exc:
            raise SerializationError(s, exc) from exc


class OpenSearchBackend(SearchBackend):
    def __init__(
        self,
        url: str,
        *,
        alias: str = "events",
        timeout_s: float = 10.0,
        shards: int = 1,
        replicas: int = 1,
    ) -> None:
        self.url = url
        self.alias = alias
        self.timeout_s = timeout_s
        self.shards = shards
        self.replicas = replicas
        self._client: AsyncOpenSearch | None = None

    @property
    def client(self) -> AsyncOpenSearch:
        if self._client is None:
            raise RuntimeError("opensearch client is not started")
        return self._client

    async def start(self) -> None:
        # The client logs every request at INFO, a second line per search beside the access
        # log's; its failures are warnings, and still show.
        logging.getLogger("opensearch").setLevel(logging.WARNING)
        self._client = AsyncOpenSearch(
            hosts=[self.url], timeout=self.timeout_s, serializer=OrjsonSerializer()
        )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def check(self) -> None:
        if not await self.client.indices.exists_alias(name=self.alias):
            raise RuntimeError(f"the index alias {self.alias!r} does not exist (run migrate)")

    # --- index lifecycle ------------------------------------------------------------------

    async def migrate(self) -> str:
        """Create the index (first run) or move to the current mapping version, copying the
        documents the old index holds. Returns the index the alias points at."""
        current = await self._indices_of(self.alias)
        if not current:
            name = bodies.index_name(self.alias, datetime.now(UTC))
            await self.client.indices.create(
                index=name, body=bodies.index_body(self.shards, self.replicas)
            )
            await self.client.indices.put_alias(index=name, name=self.alias)
            log.info("search index created", extra={"index": name})
            return name
        versions = await self._mapping_versions(current)
        if all(version >= bodies.MAPPING_VERSION for version in versions.values()):
            return current[0]

        async def copy(target: str) -> int:
            result = await self.client.reindex(
                body={
                    "source": {"index": self.alias},
                    "dest": {"index": target, "version_type": "external"},
                    "conflicts": "proceed",  # a newer fact already in the target wins
                },
                wait_for_completion=True,
                refresh=True,
            )
            return int(result.get("created", 0)) + int(result.get("updated", 0))

        report = await self._build(copy, datetime.now(UTC))
        log.info("search index migrated", extra={"index": report.target, "from": versions})
        return report.target

    async def _indices_of(self, alias: str) -> list[str]:
        try:
            found = await self.client.indices.get_alias(name=alias)
        except NotFoundError:
            return []
        return sorted(found)

    async def _mapping_versions(self, indices: list[str]) -> dict[str, int]:
        mappings = await self.client.indices.get_mapping(index=",".join(indices))
        return {
            name: int(body["mappings"].get("_meta", {}).get("mapping_version", 0))
            for name, body in mappings.items()
        }

    async def _build(self, fill: Fill, started_at: datetime) -> ReindexReport:
        """Create a new index, route live writes to it as well, fill it, swap the alias."""
        building = bodies.building_alias(self.alias)
        if await self._indices_of(building):
            raise ReindexFailed("another reindex is running")
        new_index = bodies.index_name(self.alias, started_at)
        await self.client.indices.create(
            index=new_index, body=bodies.index_body(self.shards, self.replicas)
        )
        await self.client.indices.put_alias(index=new_index, name=building)
        old = await self._indices_of(self.alias)
        try:
            count = await fill(new_index)
            await self.client.indices.refresh(index=new_index)
            await self.client.indices.update_aliases(
                body=bodies.swap_actions(self.alias, new_index, old)
            )
        except BaseException:
            await self.client.indices.delete(index=new_index, ignore_unavailable=True)
            raise
        for name in old:
            await self.client.indices.delete(index=name, ignore_unavailable=True)
        return ReindexReport(indexed=count, target=new_index)

    # --- writes ----------------------------------------------------------------------------

    async def _targets(self) -> list[str]:
        """The live index and, during a rebuild, the index being built (both by alias)."""
        building = bodies.building_alias(self.alias)
        if await self.client.indices.exists_alias(name=building):
            return [self.alias, building]
        return [self.alias]

    async def _write(self, event_id: str, source: dict[str, Any], version: datetime) -> None:
        for target in await self._targets():
            try:
                await self.client.index(
                    index=target,
                    id=event_id,
                    body=source,
                    version=bodies.version_of(version),
                    version_type="external_gte",
                    # Never let a write auto-create a concrete index with guessed mappings.
                    params={"require_alias": "true"},
                )
            except ConflictError:
                log.info("older write ignored", extra={"event_id": event_id, "index": target})
            except RequestError as exc:
                raise DocumentRejected(str(exc)) from exc

    async def upsert(self, document: SearchDocument, version: datetime) -> None:
        await self._write(document.event_id, bodies.source_of(document), version)

    async def remove(self, event_id: str, version: datetime) -> None:
        await self._write(event_id, bodies.tombstone(event_id), version)

    async def reindex(
        self, pages: AsyncIterator[list[SearchDocument]], started_at: datetime
    ) -> ReindexReport:
        version = bodies.version_of(started_at)

        async def fill(target: str) -> int:
            async def actions() -> AsyncIterator[dict[str, Any]]:
                async for page in pages:
                    for document in page:
                        if document.listed:
                            yield {
                                "_op_type": "index",
                                "_index": target,
                                "_id": document.event_id,
                                "_source": bodies.source_of(document),
                                "version": version,
                                # Strictly newer only: a fact written since the start wins.
                                "version_type": "external",
                            }

            indexed = 0
            async for ok, item in async_streaming_bulk(
                self.client, actions(), raise_on_error=False, max_retries=3
            ):
                result = item.get("index", {})
                if ok:
                    indexed += 1
                elif result.get("status") != 409:
                    raise ReindexFailed(f"indexing failed: {result.get('error')}")
            return indexed

        return await self._build(fill, started_at)

    # --- reads -----------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> SearchResult:
        response = await self._read(bodies.search_body(query))
        hits, total, facets = bodies.read_search(response)
        return SearchResult(items=hits, total=total, facets=facets)

    async def suggest(self, prefix: str, limit: int, starts_from: datetime) -> list[str]:
        response = await self._read(bodies.suggest_body(prefix, limit, starts_from))
        return [hit["_source"]["title"] for hit in response["hits"]["hits"]]

    async def _read(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response: dict[str, Any] = await self.client.search(index=self.alias, body=body)
        except OpenSearchConnectionError as exc:
            raise SearchUnavailable("the index does not answer") from exc
        return response
