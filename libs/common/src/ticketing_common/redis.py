"""The Redis client (redis-py asyncio; hiredis parses replies when installed)."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import redis.asyncio as aioredis
from fastapi import Depends
from starlette.requests import HTTPConnection

from ticketing_common.resources import Resource, resource
from ticketing_common.settings import RedisSettings

# What code that works on either topology accepts: a single node or a Redis Cluster.
AnyRedis: TypeAlias = aioredis.Redis | aioredis.RedisCluster


class RedisClient(Resource):
    """One client per service. `cluster=True` connects to a Redis Cluster (the URL names any
    node); code written for both topologies uses `connection`, single-node code uses `client`."""

    name = "redis"

    def __init__(self, url: str, *, max_connections: int = 100, cluster: bool = False) -> None:
        self.url = url
        self.max_connections = max_connections
        self.cluster = cluster
        self._client: AnyRedis | None = None

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> RedisClient:
        """The service's Redis as its settings say (REDIS_URL, its pool, single node or cluster)."""
        return cls(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            cluster=settings.redis_cluster,
        )

    @property
    def connection(self) -> AnyRedis:
        if self._client is None:
            raise RuntimeError("redis is not started")
        return self._client

    @property
    def client(self) -> aioredis.Redis:
        client = self.connection
        if not isinstance(client, aioredis.Redis):
            raise RuntimeError("this is a Redis Cluster client; use RedisClient.connection")
        return client

    async def start(self) -> None:
        if self.cluster:
            self._client = aioredis.RedisCluster.from_url(
                self.url, max_connections=self.max_connections, socket_connect_timeout=2
            )
            await self._client.initialize()  # discover the slots now: fail fast on a bad URL
        else:
            self._client = aioredis.from_url(
                self.url,
                max_connections=self.max_connections,
                health_check_interval=30,
                socket_connect_timeout=2,
            )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def check(self) -> None:
        await self.connection.ping()


async def _redis(conn: HTTPConnection) -> aioredis.Redis:
    return resource(conn, RedisClient).client


Redis = Annotated[aioredis.Redis, Depends(_redis)]
