from __future__ import annotations

from fastapi import FastAPI
from ticketing_common.app import create_service_app
from ticketing_common.bus import Consumer
from ticketing_common.database import Database
from ticketing_common.fastpath import serve_ahead_of_router
from ticketing_common.redis import RedisClient
from ticketing_common.resources import Resource, provide

from ticketing_search.api import router, search_events, suggest
from ticketing_search.backend import SearchBackend
from ticketing_search.indexer import Indexer
from ticketing_search.postgres_backend import PostgresSearch
from ticketing_search.settings import SearchSettings


def build_backend(settings: SearchSettings) -> tuple[SearchBackend, list[Resource]]:
    """The backend, and the resources to start (in order) for it, the backend last. OpenSearch
    when a URL is configured; otherwise the embedded PostgreSQL backend."""
    if settings.opensearch_url:
        # Imported only when configured: the embedded setup never loads the OpenSearch client.
        from ticketing_search.opensearch_backend import OpenSearchBackend

        backend = OpenSearchBackend(
            settings.opensearch_url,
            alias=settings.opensearch_alias,
            timeout_s=settings.opensearch_timeout_s,
            shards=settings.opensearch_shards,
            replicas=settings.opensearch_replicas,
        )
        return backend, [backend]
    database = Database.from_settings(settings)
    embedded = PostgresSearch(database)
    return embedded, [database, embedded]


def create_app(settings: SearchSettings | None = None) -> FastAPI:
    settings = settings or SearchSettings()
    backend, stores = build_backend(settings)
    redis = RedisClient.from_settings(settings)
    consumer = Consumer.from_settings(redis, "search", Indexer(backend).subscriptions(), settings)
    app = create_service_app(
        settings,
        title="Search service",
        description="Full-text event search with facets, typo tolerance and suggestions.",
        routers=[router],
        resources=[redis, *stores],
        background=[consumer.run],
    )
    provide(app, backend, as_type=SearchBackend)
    serve_ahead_of_router(app, router.routes, search_events, suggest)
    return app
