"""The inventory's Lua scripts and how they are called: EVALSHA, with the script loaded again
when Redis answers NOSCRIPT (after a restart, a failover or SCRIPT FLUSH).

Calls go either straight to the client (redis-py's Script: EVALSHA, and on NOSCRIPT a SCRIPT
LOAD and one retry) or through `CallBatcher`, which sends every call made in the same event-loop
turn as one pipeline: one write, one read and one pooled connection for many requests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError
from ticketing_common.redis import AnyRedis

Arg = str | bytes | int
Key = str | bytes


def _source(name: str) -> str:
    return (files("ticketing_inventory") / "lua" / f"{name}.lua").read_text()


def _compose(*parts: str) -> str:
    return "\n".join(_source(part) for part in ("prelude", *parts))


class Scripts:
    """Every script, registered on one client."""

    def __init__(self, redis: AnyRedis) -> None:
        self.redis = redis
        self.hold_seats = redis.register_script(_compose("hold_seats"))
        self.hold_standing = redis.register_script(_compose("hold_standing"))
        self.confirm = redis.register_script(_compose("confirm"))
        self.release = redis.register_script(_compose("release"))
        self.hold_view = redis.register_script(_compose("hold_view"))
        self.availability = redis.register_script(_compose("availability"))
        self.sweep = redis.register_script(_compose("sweep"))
        self.init = redis.register_script(_compose("layout", "init"))
        self.rebuild = redis.register_script(_compose("layout", "rebuild"))
        self.close = redis.register_script(_compose("close"))
        self.release_sold = redis.register_script(_compose("release_sold"))
        self.reconcile = redis.register_script(_compose("reconcile"))

    def all(self) -> list[AsyncScript]:
        return [value for value in vars(self).values() if isinstance(value, AsyncScript)]

    async def load(self) -> None:
        """SCRIPT LOAD each once at startup (on a cluster, redis-py sends it to every primary)."""
        for script in self.all():
            await self.redis.script_load(script.script)


class ScriptCaller:
    """Calls a script straight away."""

    async def __call__(self, script: AsyncScript, keys: Sequence[Key], args: Sequence[Arg]) -> Any:
        return await script(keys=keys, args=args)


class CallBatcher(ScriptCaller):
    """Coalesces script calls: the first call of an event-loop turn schedules a flush at the end
    of that turn, and every call made meanwhile joins the same pipeline (non-transactional: each
    script is atomic on its own). Calls answered NOSCRIPT are retried through the Script, which
    loads it; a NOSCRIPT call did not run, so the retry cannot apply it twice."""

    def __init__(self, redis: AnyRedis, *, max_batch: int = 512) -> None:
        self.redis = redis
        self.max_batch = max_batch
        self._queue: list[
            tuple[AsyncScript, Sequence[Key], Sequence[Arg], asyncio.Future[Any]]
        ] = []
        self._flushing: set[asyncio.Task[None]] = set()

    def __call__(self, script: AsyncScript, keys: Sequence[Key], args: Sequence[Arg]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queue:
            loop.call_soon(self._flush)
        self._queue.append((script, keys, args, future))
        if len(self._queue) >= self.max_batch:
            self._flush()
        return future

    def _flush(self) -> None:
        if not self._queue:
            return
        batch, self._queue = self._queue, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _send(
        self, batch: list[tuple[AsyncScript, Sequence[Key], Sequence[Arg], asyncio.Future[Any]]]
    ) -> None:
        try:
            results = await self._pipeline(batch)
        except Exception as exc:  # no answers at all (connection lost, ...): every caller fails
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (script, keys, args, future), result in zip(batch, results, strict=True):
            if future.done():  # the caller went away (client disconnected)
                continue
            if isinstance(result, NoScriptError):
                try:
                    result = await script(keys=keys, args=args)
                except Exception as exc:
                    future.set_exception(exc)
                    continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _pipeline(
        self, batch: list[tuple[AsyncScript, Sequence[Key], Sequence[Arg], asyncio.Future[Any]]]
    ) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        for script, keys, args, _ in batch:
            # execute_command, not pipe.evalsha(): redis-py's cluster pipeline refuses its
            # evalsha() helper, yet routes an EVALSHA by its keys' slot like any keyed command
            # (and follows MOVED). NOSCRIPT answers are handled in _send.
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        return results
