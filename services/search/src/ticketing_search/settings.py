from __future__ import annotations

from pydantic import Field
from ticketing_common.settings import (
    ConsumerSettings,
    PostgresSettings,
    RedisSettings,
    ServiceSettings,
    local_database,
)


class SearchSettings(ServiceSettings, PostgresSettings, RedisSettings, ConsumerSettings):
    service_name: str = "search"
    # The embedded backend's database (used when no OpenSearch URL is configured).
    database_url: str = local_database("ticketing_search")

    # OpenSearch, when set (`https://user:pass@host:9200`); otherwise PostgreSQL full-text.
    opensearch_url: str | None = None
    # The alias searches read and facts write through; real indices are `<alias>-v<n>-<stamp>`.
    opensearch_alias: str = "events"
    opensearch_timeout_s: float = Field(default=10.0, gt=0)
    opensearch_shards: int = Field(default=1, ge=1)
    opensearch_replicas: int = Field(default=1, ge=0)

    # The events service, which serves the search documents a reindex rebuilds from.
    events_url: str = "http://127.0.0.1:8002"
    reindex_page_size: int = Field(default=500, ge=1, le=1000)

    # The bus consumer (ConsumerSettings): how often a failed fact is retried.
    bus_max_attempts: int = Field(default=8, ge=1)
