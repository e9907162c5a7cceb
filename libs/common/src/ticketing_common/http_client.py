"""Calling other services' `/internal/...` commands: a pooled aiohttp client that carries the
service credential, the request id and the trace header (the transport under `peers`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from ticketing_common.errors import PeerUnavailable
from ticketing_common.internal import SERVICE_TOKEN_HEADER
from ticketing_common.logging import request_id_var
from ticketing_common.resources import Resource
from ticketing_common.tracing import TRACE_HEADER, outgoing_trace_header

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceResponse:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class ServiceClient(Resource):
    name = "services"

    def __init__(self, service_token: str, *, timeout_s: float = 5.0, pool_size: int = 100) -> None:
        self.service_token = service_token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(2.0, timeout_s))
        self.pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            # Idle connections are dropped before uvicorn's 5 s keep-alive closes them from the
            # other side: a POST sent on a connection the server is closing is not retried.
            connector=aiohttp.TCPConnector(
                limit=self.pool_size, ttl_dns_cache=60, keepalive_timeout=4.0
            ),
            timeout=self.timeout,
            json_serialize=lambda obj: orjson.dumps(obj).decode(),
        )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self,
        service: str,
        method: str,
        url: str,
        *,
        json: Any = None,
        timeout_s: float | None = None,
    ) -> ServiceResponse:
        """One request to another service. Connection failures and timeouts raise
        PeerUnavailable; any HTTP answer is returned for the caller (a `PeerClient`) to read."""
        if self._session is None:
            raise RuntimeError("service client is not started")
        headers = {SERVICE_TOKEN_HEADER: self.service_token}
        if request_id := request_id_var.get():
            headers["X-Request-ID"] = request_id
        if trace := outgoing_trace_header():
            headers[TRACE_HEADER] = trace
        # Never None: aiohttp reads an explicit None as "no timeout at all", and a frozen peer
        # (it still accepts connections) would hold the call for ever.
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s else self.timeout
        try:
            async with self._session.request(
                method, url, json=json, headers=headers, timeout=timeout
            ) as response:
                raw = await response.read()
                body = orjson.loads(raw) if raw else None
                return ServiceResponse(response.status, body)
        except TimeoutError as exc:
            log.warning("call timed out", extra={"service": service, "url": url})
            raise PeerUnavailable(service, "timed out") from exc
        except aiohttp.ClientError as exc:
            log.warning("call failed", extra={"service": service, "url": url, "error": repr(exc)})
            raise PeerUnavailable(service, "unreachable") from exc
        except orjson.JSONDecodeError as exc:
            raise PeerUnavailable(service, "answered with invalid JSON") from exc
