"""Calling other services' `/internal/...` commands: pooled keep-alive connections
(ticketing_common.http1, as the gateway's; aiohttp's client cost 3-4 times as much CPU per call)
carrying the service credential, the request id and the trace header (the transport under
`peers`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from ticketing_common.errors import PeerUnavailable
from ticketing_common.http1 import Http1Client, Origin, Timeout, UpstreamError
from ticketing_common.internal import SERVICE_TOKEN_HEADER
from ticketing_common.logging import request_id_var
from ticketing_common.resources import Resource
from ticketing_common.settings import ServiceSettings
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
        self.timeout = Timeout(timeout_s, min(2.0, timeout_s))
        self.pool_size = pool_size
        self._client: Http1Client | None = None
        self._origins: dict[str, Origin] = {}

    @classmethod
    def from_settings(cls, settings: ServiceSettings, *, timeout_s: float = 5.0) -> ServiceClient:
        """The client for calls to peers, carrying the service's SERVICE_TOKEN."""
        return cls(settings.service_token.get_secret_value(), timeout_s=timeout_s)

    async def start(self) -> None:
        # Idle connections are dropped before uvicorn's 5 s keep-alive closes them from the other
        # side: a POST sent on a connection the server is closing is not retried.
        self._client = Http1Client(limit_per_origin=self.pool_size, keepalive_s=4.0)

    async def stop(self) -> None:
        if self._client is not None:
            self._client.close()

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
        if self._client is None:
            raise RuntimeError("service client is not started")
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        origin = self._origins.get(base)
        if origin is None:
            origin = self._origins[base] = Origin.of(base)
        target = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        headers = [(SERVICE_TOKEN_HEADER, self.service_token)]
        if request_id := request_id_var.get():
            headers.append(("X-Request-ID", request_id))
        if trace := outgoing_trace_header():
            headers.append((TRACE_HEADER, trace))
        body = None
        if json is not None:
            body = orjson.dumps(json)
            headers.append(("Content-Type", "application/json"))
        timeouts = Timeout(timeout_s, self.timeout.connect_s) if timeout_s else self.timeout
        try:
            response = await self._client.request(
                method, origin, target, headers, timeouts=timeouts, body=body
            )
            try:
                raw = await response.read()
            finally:
                response.release()
            return ServiceResponse(response.status, orjson.loads(raw) if raw else None)
        except TimeoutError as exc:
            log.warning("call timed out", extra={"service": service, "url": url})
            raise PeerUnavailable(service, "timed out") from exc
        except UpstreamError as exc:
            log.warning("call failed", extra={"service": service, "url": url, "error": repr(exc)})
            raise PeerUnavailable(service, "unreachable") from exc
        except orjson.JSONDecodeError as exc:
            raise PeerUnavailable(service, "answered with invalid JSON") from exc
