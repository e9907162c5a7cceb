"""The Redis client (redis-py asyncio; hiredis parses replies when installed)."""

from __future__ import annotations

from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends
from starlette.requests import HTTPConnection

from ticketing_common.resources import Resource, resource


class RedisClient(Resource):
    name = "redis"

    def __init__(self, url: str, *, max_connections: int = 100) -> None:
        self.url = url
        self.max_connections = max_connections
        self._client: aioredis.Redis | None = None

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("redis is not started")
        return self._client

    async def start(self) -> None:
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
        await self.client.ping()


def _redis(conn: HTTPConnection) -> aioredis.Redis:
    return resource(conn, RedisClient).client


Redis = Annotated[aioredis.Redis, Depends(_redis)]
