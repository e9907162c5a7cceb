"""Idempotency-Key: the same key and body replays the first response; the same key with a
different body is refused (422). Records live in Redis, scoped to the caller and the route."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Header, Request
from pydantic import BaseModel
from starlette.responses import Response

from ticketing_common.problems import PROBLEM_JSON, Problem, ProblemType
from ticketing_common.redis import AnyRedis, RedisClient
from ticketing_common.resources import resource
from ticketing_common.security import CurrentUser

T = TypeVar("T")

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
REPLAYED_HEADER = "Idempotent-Replayed"


class Idempotency:
    """Runs a request's work once per key. Without a key it simply runs it."""

    def __init__(
        self,
        redis: AnyRedis | None,
        record_key: str | None,
        body_hash: str,
        ttl_s: int,
        success_status: int,
    ) -> None:
        self.redis = redis
        self.record_key = record_key
        self.body_hash = body_hash
        self.ttl_s = ttl_s
        self.success_status = success_status

    async def run(self, work: Callable[[], Awaitable[T]]) -> T | Response:
        if self.redis is None or self.record_key is None:
            return await work()
        pending = orjson.dumps({"state": "pending", "hash": self.body_hash})
        claimed = await self.redis.set(self.record_key, pending, nx=True, ex=self.ttl_s)
        if not claimed:
            return await self._replay()
        try:
            result = await work()
        except Problem as problem:
            if problem.status >= 500:
                await self.redis.delete(self.record_key)
            else:  # a definite answer (409 seats taken, ...) is replayed like a success
                await self._store(problem.status, problem.to_dict(), PROBLEM_JSON)
            raise
        except BaseException:
            await self.redis.delete(self.record_key)  # nothing was decided: allow a retry
            raise
        body = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        await self._store(self.success_status, body, "application/json")
        return result

    async def _store(self, status: int, body: Any, media_type: str) -> None:
        assert self.redis is not None
        assert self.record_key is not None
        record = {
            "state": "done",
            "hash": self.body_hash,
            "status": status,
            "media_type": media_type,
            "body": body,
        }
        await self.redis.set(self.record_key, orjson.dumps(record), ex=self.ttl_s)

    async def _replay(self) -> Response:
        assert self.redis is not None
        assert self.record_key is not None
        raw = await self.redis.get(self.record_key)
        if raw is None:
            raise Problem(
                409,
                "The first request with this Idempotency-Key just ended; retry",
                slug=ProblemType.IDEMPOTENCY_RETRY,
            )
        record = orjson.loads(raw)
        if record["hash"] != self.body_hash:
            raise Problem(
                422,
                "This Idempotency-Key was already used with a different request body",
                slug=ProblemType.IDEMPOTENCY_KEY_REUSED,
            )
        if record["state"] != "done":
            raise Problem(
                409,
                "A request with this Idempotency-Key is still being processed",
                slug=ProblemType.IDEMPOTENCY_IN_PROGRESS,
            )
        return Response(
            orjson.dumps(record["body"]),
            status_code=record["status"],
            media_type=record["media_type"],
            headers={REPLAYED_HEADER: "true"},
        )


def idempotency(success_status: int = 200, ttl_s: int = 86_400) -> Callable[..., Any]:
    """Dependency factory: `idem: Annotated[Idempotency, Depends(idempotency(201))]`."""

    async def dependency(
        request: Request,
        user: CurrentUser,
        idempotency_key: Annotated[
            str | None,
            Header(description="Replays the first response for the same key and body"),
        ] = None,
    ) -> Idempotency:
        if idempotency_key is None:
            return Idempotency(None, None, "", ttl_s, success_status)
        if not _VALID_KEY.match(idempotency_key):
            raise Problem(
                400,
                "Idempotency-Key must be 1-255 visible ASCII characters",
                slug=ProblemType.BAD_IDEMPOTENCY_KEY,
            )
        body_hash = hashlib.sha256(await request.body()).hexdigest()
        route = f"{request.method} {request.url.path}"
        scope = hashlib.sha256(f"{user.user_id}\n{route}\n{idempotency_key}".encode()).hexdigest()
        redis = resource(request, RedisClient).connection
        return Idempotency(redis, f"idem:{scope}", body_hash, ttl_s, success_status)

    return dependency
