"""The proxy path: a raw ASGI handler, because it runs on every public request and a framework
route (dependency injection, pydantic, response classes) would cost more than the proxying.

Per request: one pass over the headers; edge auth (a cached token verification); one rate-limit
decision (local, see ratelimit.py); the circuit breaker; then the upstream call on a pooled
keep-alive connection (ticketing_common.http1: aiohttp's client was 45 % of the gateway's
samples). Bodies are forwarded as they arrive in both directions when they are
large or of unknown length; small bodies are passed in one piece. Every answer the gateway makes
itself is application/problem+json, and every request writes one JSON access log line.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send
from ticketing_common.access_log import AccessLog
from ticketing_common.http1 import Response, Timeout, UpstreamError
from ticketing_common.logging import request_id_var, trace_id_var
from ticketing_common.middleware import forwarded_client, request_id_from
from ticketing_common.problems import (
    PROBLEM_JSON,
    Problem,
    ProblemType,
    body_too_large,
    unauthorized,
)
from ticketing_common.security import InvalidToken, Principal, TokenVerifier, bearer_token
from yarl import URL

from ticketing_api_gateway.breaker import CircuitBreaker
from ticketing_api_gateway.public_routes import RETRY_S, AnonymousRoutes
from ticketing_api_gateway.ratelimit import Decision, RateLimiter
from ticketing_api_gateway.rooms import ADMISSION_HEADER, BOOKINGS_PATH, RoomGuard, booking_event
from ticketing_api_gateway.routing import Route
from ticketing_api_gateway.upstreams import Upstreams

log = logging.getLogger(__name__)

ROUTE_SCOPE_KEY = "gateway_route"

# RFC 9110 §7.6.1: meaningful for one connection only; never forwarded (either direction).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Request headers the gateway looks at: each gets a slot in one pass over the headers. Those from
# _CONSUMED on are not forwarded as they came: the gateway replaces them (request id, forwarding
# headers, `host`: the upstream's, set by the client), they are hop-by-hop, or (`expect`) the
# gateway already answered the client's 100-continue itself.
(
    _AUTHORIZATION,
    _CONTENT_LENGTH,
    _ACCEPT_ENCODING,
    _TRACE,
    _REQUEST_ID,
    _ADMISSION,
    _FORWARDED_FOR,
    _FORWARDED_PROTO,
    _FORWARDED_HOST,
    _HOST,
    _TRANSFER_ENCODING,
    _CONNECTION,
    _DROPPED,
) = range(13)
_CONSUMED = _REQUEST_ID
_SLOTS: dict[bytes, int] = {
    b"authorization": _AUTHORIZATION,
    b"content-length": _CONTENT_LENGTH,
    b"accept-encoding": _ACCEPT_ENCODING,
    b"x-amzn-trace-id": _TRACE,
    b"x-request-id": _REQUEST_ID,
    # Checked here, at the edge, and kept there: the services never see admission tokens.
    ADMISSION_HEADER: _ADMISSION,
    b"x-forwarded-for": _FORWARDED_FOR,
    b"x-forwarded-proto": _FORWARDED_PROTO,
    b"x-forwarded-host": _FORWARDED_HOST,
    b"host": _HOST,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"connection": _CONNECTION,
    b"expect": _DROPPED,
} | dict.fromkeys(HOP_BY_HOP - {b"transfer-encoding", b"connection"}, _DROPPED)
# With X-Ray on, the incoming trace header is replaced by one naming the gateway's segment.
_SLOTS_XRAY = _SLOTS | {b"x-amzn-trace-id": _DROPPED}
# Response headers the gateway replaces: uvicorn writes its own date and server; ours is the
# request id.
_RESPONSE_DROPPED = HOP_BY_HOP | {b"date", b"server", b"x-request-id"}
# Response headers that carry URLs: rewritten so that none names an internal address.
_URL_HEADERS = frozenset({b"location", b"content-location", b"link", b"refresh"})
_ABSOLUTE_URL = re.compile(rb"https?://(\[[0-9A-Fa-f:.]+\]|[^/:\s<>;,\"']+)(:\d+)?")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ROOM_METHODS = _BODY_METHODS | {"DELETE"}  # what may end an admission (rooms.finished)
_SLOT_COUNT = _DROPPED + 1
_TRACE_ROOT = re.compile(r"Root=([^;]+)")
# Responses up to this size with a declared length are read whole and sent in one message;
# larger or unsized ones are streamed chunk by chunk.
BUFFERED_RESPONSE_BYTES = 64 * 1024


class InternalAddresses:
    """The addresses behind the gateway (its upstreams, and any private or loopback address):
    `made_public` turns a URL naming one into the public path it stands for."""

    def __init__(self, upstreams: Iterable[str]) -> None:
        self.hosts = {URL(upstream).host for upstream in upstreams}

    def is_internal(self, host: str) -> bool:
        if host in self.hosts or host == "localhost":
            return True
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return address.is_private or address.is_loopback or address.is_link_local

    def made_public(self, value: bytes) -> bytes:
        def relative(match: re.Match[bytes]) -> bytes:
            host = match.group(1).decode("latin-1").lower()
            return b"" if self.is_internal(host) else match.group(0)

        rewritten = _ABSOLUTE_URL.sub(relative, value)
        # "http://10.0.0.5:8004" alone (no path) becomes "": the public root is "/".
        return rewritten if rewritten.strip() else b"/"


class _ClientGone(Exception):
    pass


class _Incoming:
    """One request as the gateway read it, and what it learnt of its caller on the way."""

    __slots__ = (
        "client_ip",
        "forward",
        "method",
        "path",
        "peer",
        "principal",
        "request_id",
        "room",
        "seen",
        "trace_id",
        "upstream_ms",
        "user_id",
    )

    def __init__(
        self,
        method: str,
        path: str,
        seen: list[bytes | None],
        forward: list[tuple[str, str]],
        request_id: str,
        trace_id: str | None,
        peer: str,
        client_ip: str,
    ) -> None:
        self.method = method
        self.path = path
        self.seen = seen  # the headers the gateway looks at, by slot
        self.forward = forward  # the headers passed on as they came
        self.request_id = request_id
        self.trace_id = trace_id
        self.peer = peer
        self.client_ip = client_ip
        self.principal: Principal | None = None
        self.user_id: str | None = None
        self.upstream_ms: float | None = None
        self.room: str | None = None  # the event whose waiting room this request passed


class _Body:
    """What is forwarded as the request body: nothing, one piece, or chunks as they arrive."""

    __slots__ = ("data", "upload")

    def __init__(self, data: bytes | AsyncIterator[bytes] | None, upload: _Upload | None) -> None:
        self.data = data
        self.upload = upload


class _BodyTooLarge(Exception):
    pass


class _Upload:
    """A request body forwarded while it arrives, counted against the size limit."""

    __slots__ = ("client_gone", "finished", "first", "limit", "receive", "received", "too_large")

    def __init__(self, first: bytes, receive: Receive, limit: int) -> None:
        self.first = first
        self.receive = receive
        self.limit = limit
        self.received = len(first)
        self.too_large = False
        self.client_gone = False
        self.finished = False

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.first:
            yield self.first
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise _ClientGone
            chunk: bytes = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self.limit:
                self.too_large = True
                raise _BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self.finished = True
                return


class Proxy:
    def __init__(
        self,
        *,
        upstreams: Upstreams,
        limiter: RateLimiter,
        verifier: TokenVerifier,
        anonymous: AnonymousRoutes,
        max_body_bytes: int,
        trusted_proxy_hops: int,
        routes: list[Route],
        access_log: AccessLog,
        rooms: RoomGuard | None = None,
        forward_xray_segment: bool = False,
    ) -> None:
        self.access_log = access_log
        self.rooms = rooms
        self.upstreams = upstreams
        self.limiter = limiter
        self.verifier = verifier
        self.anonymous = anonymous
        self.max_body_bytes = max_body_bytes
        self.trusted_proxy_hops = trusted_proxy_hops
        self._slots = _SLOTS_XRAY if forward_xray_segment else _SLOTS
        self._trace_header: Callable[[], str | None] | None = None
        if forward_xray_segment:
            # Imported only when X-Ray is on: the SDK is slow to import.
            from ticketing_common.tracing import outgoing_trace_header

            self._trace_header = outgoing_trace_header
        self._timeouts = {
            route.prefix: Timeout(route.timeouts.total_s, route.timeouts.connect_s)
            for route in routes
        }
        self._internal = InternalAddresses(route.upstream for route in routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One proxied request, in named steps: read the headers, authenticate, admit (rate
        limit), read the body, pass the breaker, call the service, relay its answer. A step that
        answers the client itself (a problem) ends the request."""
        started = time.perf_counter()
        route: Route = scope[ROUTE_SCOPE_KEY]
        incoming = self._read_headers(scope)
        rid_token = request_id_var.set(incoming.request_id)
        trace_token = trace_id_var.set(incoming.trace_id) if incoming.trace_id else None
        exchange = _Exchange(
            send, incoming.request_id, incoming.method, incoming.path, self._internal
        )
        try:
            await self._proxy(route, incoming, scope, receive, exchange)
        except Exception:
            log.exception("proxy failure", extra={"path": incoming.path})
            if not exchange.started:
                await exchange.problem(
                    Problem(
                        500,
                        "An unexpected error occurred; it has been logged",
                        slug=ProblemType.INTERNAL,
                    )
                )
        finally:
            if self.access_log.enabled:
                exchange.log(
                    self.access_log,
                    started,
                    route,
                    incoming.client_ip,
                    incoming.user_id,
                    incoming.upstream_ms,
                )
            request_id_var.reset(rid_token)
            if trace_token is not None:
                trace_id_var.reset(trace_token)

    async def _proxy(
        self, route: Route, incoming: _Incoming, scope: Scope, receive: Receive, exchange: _Exchange
    ) -> None:
        auth_problem = await self._authenticate(route, incoming)
        if not await self._admit(route, incoming, exchange):
            return
        if auth_problem is not None:
            await exchange.problem(auth_problem)
            return
        rooms = self.rooms
        if rooms is not None and not await self._through_room(rooms, incoming, exchange):
            return
        body = await self._read_body(incoming, receive, exchange)
        if body is None:
            return
        if rooms is not None and incoming.method == "POST" and incoming.path == BOOKINGS_PATH:
            body = await self._booking_through_room(rooms, incoming, body, exchange)
            if body is None:
                return
        breaker = self.upstreams.breakers[route.upstream]
        if not breaker.allow():
            await exchange.problem(_circuit_open(breaker.retry_after_s()))
            return
        self._add_forwarding_headers(incoming, scope)
        response = await self._call_upstream(route, incoming, scope, body, breaker, exchange)
        if response is None:
            return
        try:
            await exchange.relay(response)
        finally:
            response.release()
        if rooms is not None and incoming.method in _ROOM_METHODS:
            await rooms.finished(
                incoming.method, incoming.path, exchange.status, incoming.user_id, incoming.room
            )

    def _read_headers(self, scope: Scope) -> _Incoming:
        """One pass over the request headers: pick out what the gateway needs, copy the rest."""
        method: str = scope["method"]
        slots = self._slots
        seen: list[bytes | None] = [None] * _SLOT_COUNT
        forward: list[tuple[str, str]] = []
        for name, value in scope["headers"]:
            slot = slots.get(name)
            if slot is not None:
                seen[slot] = value
                if slot >= _CONSUMED:
                    continue
            forward.append((name.decode("latin-1"), value.decode("latin-1")))
        if (connection := seen[_CONNECTION]) is not None:
            forward = _without_connection_tokens(forward, connection)
        if seen[_ACCEPT_ENCODING] is None:
            # The gateway does not decode bodies: ask for them unencoded, as the client did.
            forward.append(("Accept-Encoding", "identity"))
        trace_id = None
        trace = seen[_TRACE]
        if trace is not None and (root := _TRACE_ROOT.search(trace.decode("latin-1"))):
            trace_id = root.group(1)
        peer = scope["client"][0] if scope.get("client") else "unknown"
        forwarded_for = seen[_FORWARDED_FOR]
        client = forwarded_client(
            peer,
            forwarded_for.decode("latin-1") if forwarded_for else None,
            self.trusted_proxy_hops,
        )
        return _Incoming(
            method,
            scope["path"],
            seen,
            forward,
            request_id_from(seen[_REQUEST_ID]),
            trace_id,
            peer,
            client,
        )

    async def _authenticate(self, route: Route, incoming: _Incoming) -> Problem | None:
        """Edge auth: the caller's principal, or why it has none on a route that needs one. An
        invalid token on a route its service declares anonymous is treated as no token (the
        service decides what it means); on any other route it is a 401."""
        problem: str | None = None
        authorization = incoming.seen[_AUTHORIZATION]
        if authorization is not None:
            token = bearer_token(authorization.decode("latin-1"))
            if token is None:
                problem = "The Authorization header does not carry a bearer token"
            else:
                try:
                    incoming.principal = await self.verifier.verify(token)
                except InvalidToken as exc:
                    problem = str(exc)
        if incoming.principal is not None:
            return None
        anonymous = self.anonymous
        if not anonymous.knows(route.upstream) and not await anonymous.learn(route.upstream):
            return _declarations_unknown()
        if anonymous.public.is_public(route.upstream, incoming.method, incoming.path):
            return None
        return unauthorized(problem or "This endpoint needs a bearer token")

    async def _admit(self, route: Route, incoming: _Incoming, exchange: _Exchange) -> bool:
        """The rate limit: per user when the token is valid, else per client address (a caller
        with a bad token spends its address's tokens, so forged tokens cannot flood)."""
        principal = incoming.principal
        if principal is not None:
            incoming.user_id = principal.user_id
            key, limit = f"{route.group}:user:{principal.user_id}", route.user_limit
        else:
            key, limit = f"{route.group}:ip:{incoming.client_ip}", route.anonymous_limit
        decision = await self.limiter.admit(key, limit)
        exchange.rate_headers = _rate_limit_headers(decision)
        if not decision.admitted:
            await exchange.problem(_rate_limited(decision.retry_after_s))
            return False
        if not decision.checked:
            exchange.log_extra["rate_limit"] = "unchecked"
        return True

    async def _read_body(
        self, incoming: _Incoming, receive: Receive, exchange: _Exchange
    ) -> _Body | None:
        """The request body, forwarded as it arrives when it is large or unsized. What is
        declared too large is refused before a byte of it is read. None: answered already."""
        seen = incoming.seen
        declared = _declared_length(seen[_CONTENT_LENGTH])
        if declared == -1:
            await exchange.problem(
                Problem(400, "Content-Length is not a number", slug=ProblemType.BAD_REQUEST)
            )
            return None
        if declared is not None and declared > self.max_body_bytes:
            await exchange.problem(body_too_large(self.max_body_bytes))
            return None
        if not ((declared is not None and declared > 0) or seen[_TRANSFER_ENCODING] is not None):
            return _Body(None, None)
        message = await receive()
        if message["type"] == "http.disconnect":
            exchange.status = 499
            return None
        first: bytes = message.get("body", b"")
        if len(first) > self.max_body_bytes:
            await exchange.problem(body_too_large(self.max_body_bytes))
            return None
        if message.get("more_body", False):
            upload = _Upload(first, receive, self.max_body_bytes)
            return _Body(upload.chunks(), upload)
        return _Body(first, None)

    async def _through_room(
        self, rooms: RoomGuard, incoming: _Incoming, exchange: _Exchange
    ) -> bool:
        """Waiting rooms: a hold of an event whose room is on needs an admission token."""
        incoming.room = rooms.guarded_event(incoming.method, incoming.path)
        if incoming.room and (
            refused := await rooms.admit(incoming.room, incoming.user_id, incoming.seen[_ADMISSION])
        ):
            await exchange.problem(refused)
            return False
        return True

    async def _booking_through_room(
        self, rooms: RoomGuard, incoming: _Incoming, body: _Body, exchange: _Exchange
    ) -> _Body | None:
        """A booking's event is its hold's: read from the body, which is then forwarded as the
        gateway read it (the service judges exactly what was checked here)."""
        data = body.data
        if body.upload is not None:
            try:
                data = b"".join([chunk async for chunk in body.upload.chunks()])
            except _BodyTooLarge:
                await exchange.problem(body_too_large(self.max_body_bytes))
                return None
            except _ClientGone:
                exchange.status = 499
                return None
        found = booking_event(data if isinstance(data, bytes) else b"")
        if found is None:
            if rooms.needs_body(incoming.method, incoming.path):
                await exchange.problem(
                    Problem(
                        400,
                        "The body must be a JSON object naming the hold to book",
                        slug=ProblemType.BAD_REQUEST,
                    )
                )
                return None
            return _Body(data, None)
        incoming.room, data = found
        incoming.forward = [(n, v) for n, v in incoming.forward if n.lower() != "content-length"]
        if incoming.room is not None and (
            refused := await rooms.admit(incoming.room, incoming.user_id, incoming.seen[_ADMISSION])
        ):
            await exchange.problem(refused)
            return None
        return _Body(data, None)

    def _add_forwarding_headers(self, incoming: _Incoming, scope: Scope) -> None:
        seen, forward = incoming.seen, incoming.forward
        forward.append(("X-Request-ID", incoming.request_id))
        forward.append(("X-Forwarded-For", _append_forwarded(seen[_FORWARDED_FOR], incoming.peer)))
        forward.append(("X-Forwarded-Proto", self._proto(seen[_FORWARDED_PROTO], scope)))
        forwarded_host = self._forwarded_host(seen[_FORWARDED_HOST], seen[_HOST])
        if forwarded_host is not None:
            forward.append(("X-Forwarded-Host", forwarded_host))
        if self._trace_header is not None and (segment := self._trace_header()):
            forward.append(("X-Amzn-Trace-Id", segment))

    async def _call_upstream(
        self,
        route: Route,
        incoming: _Incoming,
        scope: Scope,
        body: _Body,
        breaker: CircuitBreaker,
        exchange: _Exchange,
    ) -> Response | None:
        """The service's answer, recorded in its breaker; None when the gateway answered (the
        service unreachable or too slow, or the client's body too slow, too large or gone)."""
        origin, base_path = self.upstreams.origins[route.upstream]
        target = base_path + scope.get("raw_path", incoming.path.encode()).decode("latin-1")
        if query := scope.get("query_string"):
            target += "?" + query.decode("latin-1")
        asked = time.perf_counter()
        upload = body.upload
        try:
            response = await self.upstreams.client.request(
                incoming.method,
                origin,
                target,
                incoming.forward,
                body=body.data,
                timeouts=self._timeouts[route.prefix],
            )
        except TimeoutError:
            if upload is not None and not upload.finished:
                # Still waiting for the client's body: the client is slow, not the service.
                breaker.release_probe()
                await exchange.problem(
                    Problem(
                        408,
                        "The request body did not arrive in time",
                        slug=ProblemType.REQUEST_TIMEOUT,
                    )
                )
                return None
            breaker.record_failure()
            await exchange.problem(_timed_out())
            return None
        except UpstreamError as exc:
            if upload is not None and (upload.too_large or upload.client_gone):
                breaker.release_probe()
                if upload.client_gone:
                    exchange.status = 499
                else:
                    await exchange.problem(body_too_large(self.max_body_bytes))
                return None
            breaker.record_failure()
            log.warning(
                "upstream unreachable", extra={"upstream": route.upstream, "error": repr(exc)}
            )
            await exchange.problem(
                Problem(
                    502,
                    "The service behind this path could not be reached",
                    slug=ProblemType.UPSTREAM_UNREACHABLE,
                )
            )
            return None
        except BaseException:
            breaker.release_probe()  # a probe that ended this way told nothing
            raise
        breaker.record_success()
        incoming.upstream_ms = (time.perf_counter() - asked) * 1000
        return response

    def _proto(self, forwarded_proto: bytes | None, scope: Scope) -> str:
        if self.trusted_proxy_hops > 0 and forwarded_proto:
            return forwarded_proto.decode("latin-1")
        scheme: str = scope.get("scheme", "http")
        return scheme

    def _forwarded_host(self, forwarded_host: bytes | None, host: bytes | None) -> str | None:
        if self.trusted_proxy_hops > 0 and forwarded_host:
            return forwarded_host.decode("latin-1")
        return host.decode("latin-1") if host else None


class _Exchange:
    """The client side of one proxied request: what was sent back, for the access log."""

    __slots__ = (
        "internal",
        "log_extra",
        "method",
        "path",
        "rate_headers",
        "request_id",
        "send",
        "started",
        "status",
    )

    def __init__(
        self, send: Send, request_id: str, method: str, path: str, internal: InternalAddresses
    ) -> None:
        self.send = send
        self.internal = internal
        self.method = method
        self.request_id = request_id
        self.path = path
        self.status = 500
        self.rate_headers: list[tuple[bytes, bytes]] = []
        self.log_extra: dict[str, Any] = {}
        self.started = False  # the status line went out

    def _headers(self, more: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        more.append((b"x-request-id", self.request_id.encode()))
        more.extend(self.rate_headers)
        return more

    async def problem(self, problem: Problem) -> None:
        body = orjson.dumps(problem.to_dict(self.path), default=str)
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
        await self._start(problem.status, headers)
        await self.send({"type": "http.response.body", "body": body})

    async def _start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """The status line and headers, ours added; from here on only the body may follow."""
        self.status = status
        self.started = True
        await self.send(
            {"type": "http.response.start", "status": status, "headers": self._headers(headers)}
        )

    async def relay(self, response: Response) -> None:
        headers: list[tuple[bytes, bytes]] = []
        connection = None
        for name, value in response.raw_headers:
            lower = name.lower()
            if lower in _URL_HEADERS:
                # A service's redirect or link names the service's own address: the client may
                # only ever learn public paths.
                headers.append((lower, self.internal.made_public(value)))
            elif lower not in _RESPONSE_DROPPED:
                headers.append((lower, value))
            elif lower == b"connection":
                connection = value
        if connection is not None:
            named = _connection_tokens(connection)
            headers = [(n, v) for n, v in headers if n.decode("latin-1") not in named]
        length = response.content_length
        # Small and sized, or unsized (chunked) but already here whole, as a small answer is:
        # passed on in one message.
        if (length is None and response.complete) or (
            length is not None and length <= BUFFERED_RESPONSE_BYTES
        ):
            try:
                body = await response.read()
            except TimeoutError:
                await self.problem(_timed_out())
                return
            except UpstreamError:
                await self.problem(
                    Problem(
                        502, "The service's answer broke off", slug=ProblemType.UPSTREAM_UNREACHABLE
                    )
                )
                return
            await self._start(response.status, headers)
            await self.send({"type": "http.response.body", "body": body})
            return

        await self._start(response.status, headers)
        message: Message
        try:
            async for chunk in response.iter_any():
                message = {"type": "http.response.body", "body": chunk, "more_body": True}
                await self.send(message)
        except (TimeoutError, UpstreamError) as exc:
            # The status line is out: all we can do is cut the connection, so the client sees a
            # truncated answer rather than a falsely complete one (uvicorn closes it when we
            # return without finishing the response).
            log.warning("upstream answer broke off mid-stream", extra={"error": repr(exc)})
            self.log_extra["truncated"] = True
            return
        await self.send({"type": "http.response.body", "body": b""})

    def log(
        self,
        access_log: AccessLog,
        started: float,
        route: Route,
        client_ip: str,
        user_id: str | None,
        upstream_ms: float | None,
    ) -> None:
        method = self.method
        fields = {
            "method": method,
            "path": self.path,
            "status": self.status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "upstream": route.upstream,
            "upstream_ms": round(upstream_ms, 2) if upstream_ms is not None else None,
            "client_ip": client_ip,
            "user_id": user_id,
        }
        if self.log_extra:
            fields.update(self.log_extra)
        access_log.write(f"{method} {self.path} {self.status}", fields)


def _rate_limit_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    # draft-ietf-httpapi-ratelimit-headers (separate fields): the bucket's capacity, the tokens
    # left, seconds until it is full again.
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset_s).encode()),
    ]


def _declared_length(value: bytes | None) -> int | None:
    """The Content-Length, None if absent, -1 if it is not a number."""
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return -1
    return length if length >= 0 else -1


def _rate_limited(retry_after_s: int) -> Problem:
    return Problem(
        429,
        f"Too many requests; retry in {retry_after_s} seconds",
        slug=ProblemType.RATE_LIMITED,
        headers={"Retry-After": str(retry_after_s)},
    )


def _circuit_open(retry_after_s: int) -> Problem:
    return Problem(
        503,
        "The service behind this path is failing; try again shortly",
        slug=ProblemType.UPSTREAM_UNAVAILABLE,
        headers={"Retry-After": str(retry_after_s)},
    )


def _declarations_unknown() -> Problem:
    return Problem(
        503,
        "The service behind this path has not said yet which of its routes need no token;"
        " try again shortly",
        slug=ProblemType.UPSTREAM_UNAVAILABLE,
        headers={"Retry-After": str(round(RETRY_S))},
    )


def _timed_out() -> Problem:
    return Problem(
        504,
        "The service behind this path did not answer in time",
        slug=ProblemType.UPSTREAM_TIMEOUT,
    )


def _append_forwarded(forwarded_for: bytes | None, peer: str) -> str:
    if forwarded_for:
        return f"{forwarded_for.decode('latin-1')}, {peer}"
    return peer


def _connection_tokens(value: bytes) -> set[str]:
    return {token.strip().lower() for token in value.decode("latin-1").split(",") if token.strip()}


def _without_connection_tokens(
    headers: list[tuple[str, str]], connection: bytes
) -> list[tuple[str, str]]:
    """Headers the client's Connection header names are hop-by-hop too (RFC 9110 §7.6.1)."""
    named = _connection_tokens(connection)
    return [(name, value) for name, value in headers if name not in named]
