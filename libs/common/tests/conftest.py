from collections.abc import AsyncIterator

import pytest
from ticketing_common.redis import RedisClient


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[RedisClient]:
    """A started RedisClient on this session's (flushed) test database."""
    client = RedisClient(redis_url)
    await client.start()
    await client.client.flushdb()
    yield client
    await client.stop()
