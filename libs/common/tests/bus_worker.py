"""A consumer process for the crash test: it starts a message, says so, and hangs until killed."""

import asyncio
import sys

from ticketing_common.bus import Consumer, Subscriptions
from ticketing_common.facts import PaymentSucceeded
from ticketing_common.redis import RedisClient


async def main(redis_url: str, group: str) -> None:
    redis = RedisClient(redis_url)
    await redis.start()

    async def hang(envelope, fact) -> None:  # type: ignore[no-untyped-def]
        await redis.client.set(f"started:{envelope.id}", "1")
        await asyncio.Event().wait()

    consumer = Consumer(
        redis, group, Subscriptions().on_delivery(PaymentSucceeded, hang), consumer_name="doomed"
    )
    await consumer.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
