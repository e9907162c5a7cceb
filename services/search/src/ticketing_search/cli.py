"""`ticketing-search migrate` | `ticketing-search reindex` (also `python -m ticketing_search`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime

from ticketing_common.http_client import ServiceClient
from ticketing_common.jobs import Job, run_job
from ticketing_common.problems import Problem

from ticketing_search.backend import ReindexFailed, ReindexReport
from ticketing_search.clients import EventsClient
from ticketing_search.main import build_backend
from ticketing_search.settings import SearchSettings

log = logging.getLogger(__name__)


async def migrate_opensearch(settings: SearchSettings) -> str:
    from ticketing_search.opensearch_backend import OpenSearchBackend

    backend, _ = build_backend(settings)
    assert isinstance(backend, OpenSearchBackend)
    await backend.start()
    try:
        return await backend.migrate()
    finally:
        await backend.stop()


async def reindex(settings: SearchSettings) -> ReindexReport:
    """Rebuild the index from the events service; searches keep being served meanwhile."""
    backend, resources = build_backend(settings)
    client = ServiceClient.from_settings(settings, timeout_s=60)
    started = []
    try:
        for item in [*resources, client]:
            await item.start()
            started.append(item)
        started_at = datetime.now(UTC)  # before the first page: facts after it win
        events = EventsClient(client, settings.events_url)
        pages = events.search_documents(settings.reindex_page_size)
        return await backend.reindex(pages, started_at)
    finally:
        for item in reversed(started):
            await item.stop()


def _migrate(_: argparse.Namespace) -> None:
    settings = SearchSettings()
    if settings.opensearch_url:
        index = asyncio.run(migrate_opensearch(settings))
        log.info("search index ready", extra={"index": index})
    else:
        from ticketing_common.migrations import migrations_dir, upgrade

        upgrade(settings.database_url, migrations_dir(__file__))


def _reindex(_: argparse.Namespace) -> None:
    try:
        report = asyncio.run(reindex(SearchSettings()))
    except (ReindexFailed, Problem) as exc:
        sys.exit(f"reindex failed: {exc}")
    print(json.dumps({"indexed": report.indexed, "target": report.target}))


JOBS = {
    "migrate": Job(
        "create or upgrade the index (OpenSearch) or the tables (embedded PostgreSQL)", _migrate
    ),
    "reindex": Job("rebuild the index from the events service", _reindex),
}


def main(argv: list[str] | None = None) -> None:
    run_job("ticketing-search", JOBS, argv)
