"""The gateway's upstream client over real sockets: servers written here answer as a service
would, or misbehave as a failing one does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from ticketing_common.http1 import Http1Client, Origin, Timeout, UpstreamError

TIMEOUT = Timeout(2.0, 1.0)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[tuple[Origin, Server]]:
    state = Server()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield Origin.of(f"http://127.0.0.1:{port}"), state
    finally:
        server.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The head and the body (by Content-Length, or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return head, body
            body += chunk[:-2]
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return head, await reader.readexactly(int(line.split(b":")[1]))
    return head, b""


def echo(state_requests: list[bytes] | None = None, *, close: bool = False) -> Handler:
    """Answers every request on the connection with its own body (or the request line)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, body = await read_request(reader)
            if state_requests is not None:
                state_requests.append(head + body)
            answer = body or head.split(b"\r\n")[0]
            extra = b"Connection: close\r\n" if close else b""
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n%bContent-Length: %d\r\n\r\n%b"
                % (extra, len(answer), answer)
            )
            await writer.drain()
            if close:
                return

    return handle


def answer_once(raw: bytes, *, linger_s: float = 0.0) -> Handler:
    """Reads one request, sends `raw` as the answer, keeps the connection `linger_s`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(raw)
        await writer.drain()
        await asyncio.sleep(linger_s)

    return handle


async def get(client: Http1Client, origin: Origin, target: str = "/x") -> tuple[int, bytes]:
    response = await client.request("GET", origin, target, [("X-Test", "1")], timeouts=TIMEOUT)
    try:
        return response.status, await response.read()
    finally:
        response.release()


async def test_connections_are_kept_alive_and_reused() -> None:
    requests: list[bytes] = []
    async with serving(echo(requests)) as (origin, server):
        client = Http1Client()
        for n in range(5):
            assert await get(client, origin, f"/n/{n}") == (200, f"GET /n/{n} HTTP/1.1".encode())
        client.close()
    assert server.connections == 1
    assert requests[0].startswith(b"GET /n/0 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"X-Test: 1\r\n" in requests[0]


async def test_a_connection_the_server_closes_is_not_reused() -> None:
    async with serving(echo(close=True)) as (origin, server):
        client = Http1Client()
        for _ in range(3):
            assert (await get(client, origin))[0] == 200
        client.close()
    assert server.connections == 3


async def test_an_idle_connection_past_the_keepalive_is_not_reused() -> None:
    async with serving(echo()) as (origin, server):
        client = Http1Client(keepalive_s=0.1)
        await get(client, origin)
        await asyncio.sleep(0.2)
        await get(client, origin)
        client.close()
    assert server.connections == 2


async def test_bodies_are_framed_whole_or_chunked() -> None:
    requests: list[bytes] = []
    async with serving(echo(requests)) as (origin, _):
        client = Http1Client()

        async def pieces() -> AsyncIterator[bytes]:
            for piece in (b"one ", b"", b"two ", b"three"):
                yield piece

        whole = await client.request(
            "POST", origin, "/p", [("Content-Length", "999")], timeouts=TIMEOUT, body=b'{"a": 1}'
        )
        assert await whole.read() == b'{"a": 1}'
        whole.release()
        streamed = await client.request("POST", origin, "/p", [], timeouts=TIMEOUT, body=pieces())
        assert await streamed.read() == b"one two three"
        streamed.release()
        client.close()
    assert b"Content-Length: 8\r\n" in requests[0]
    assert b"999" not in requests[0]  # a whole body's length is the client's own
    assert b"Transfer-Encoding: chunked\r\n" in requests[1]
    assert b"Content-Length" not in requests[1]


async def test_a_stream_of_declared_length_is_sent_as_is() -> None:
    requests: list[bytes] = []
    async with serving(echo(requests)) as (origin, _):
        client = Http1Client()

        async def pieces() -> AsyncIterator[bytes]:
            yield b"abc"
            yield b"def"

        response = await client.request(
            "PUT", origin, "/p", [("Content-Length", "6")], timeouts=TIMEOUT, body=pieces()
        )
        assert await response.read() == b"abcdef"
        response.release()
        client.close()
    assert b"Content-Length: 6\r\n" in requests[0]


async def test_chunked_and_close_delimited_answers_are_read_whole() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"hello ", b"world"):
            writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await reader.read()

    until_close = answer_once(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
    client = Http1Client()
    async with serving(chunked) as (origin, _):
        response = await client.request("GET", origin, "/", [], timeouts=TIMEOUT)
        assert response.content_length is None
        assert [piece async for piece in response.iter_any()] == [b"hello ", b"world"]
        response.release()
    async with serving(until_close) as (origin, _):
        assert await get(client, origin) == (200, b"all of it")
    client.close()


async def test_an_answer_cut_off_midway_is_an_error_and_the_connection_dropped() -> None:
    cut = answer_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
    async with serving(cut) as (origin, server):
        client = Http1Client()
        for _ in range(2):
            response = await client.request("GET", origin, "/", [], timeouts=TIMEOUT)
            with pytest.raises(UpstreamError, match="closed mid-answer"):
                await response.read()
            response.release()
        client.close()
    assert server.connections == 2


async def test_garbage_is_an_error() -> None:
    async with serving(answer_once(b"SMTP ready\r\n\r\n", linger_s=0.5)) as (origin, _):
        client = Http1Client()
        with pytest.raises(UpstreamError, match="not HTTP"):
            await client.request("GET", origin, "/", [], timeouts=TIMEOUT)
        client.close()


async def test_nobody_listening_is_an_error() -> None:
    async with serving(echo()) as (origin, _):
        pass  # closed: the port is free again
    client = Http1Client()
    with pytest.raises(UpstreamError, match="cannot connect"):
        await client.request("GET", origin, "/", [], timeouts=TIMEOUT)
    client.close()


async def test_the_deadline_covers_the_answer_and_a_late_connection_is_dropped() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
        await writer.drain()
        await asyncio.sleep(1.0)
        writer.write(b"cd")
        await writer.drain()
        await reader.read()

    async with serving(slow) as (origin, server):
        client = Http1Client()
        response = await client.request("GET", origin, "/", [], timeouts=Timeout(0.3))
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await response.read()
        assert loop.time() - started < 0.6
        response.release()
        again = await client.request("GET", origin, "/", [], timeouts=Timeout(0.3))
        again.release()
        client.close()
    assert server.connections == 2  # the late one was not reused


async def test_a_service_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with serving(silent) as (origin, _):
        client = Http1Client()
        with pytest.raises(TimeoutError):
            await client.request("GET", origin, "/", [], timeouts=Timeout(0.2))
        client.close()


async def test_a_failing_body_source_is_an_error_with_its_cause() -> None:
    class Gone(Exception):
        pass

    async def pieces() -> AsyncIterator[bytes]:
        yield b"start"
        raise Gone

    async with serving(echo()) as (origin, _):
        client = Http1Client()
        with pytest.raises(UpstreamError) as caught:
            await client.request("POST", origin, "/", [], timeouts=TIMEOUT, body=pieces())
        assert isinstance(caught.value.__cause__, Gone)
        assert await get(client, origin) == (200, b"GET /x HTTP/1.1")  # the pool still serves
        client.close()


async def test_requests_beyond_the_limit_wait_for_a_connection() -> None:
    in_flight = 0
    most = 0

    async def counting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, most
        while True:
            await read_request(reader)
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    async with serving(counting) as (origin, server):
        client = Http1Client(limit_per_origin=3)
        statuses = await asyncio.gather(*(get(client, origin) for _ in range(12)))
        client.close()
    assert statuses == [(204, b"")] * 12
    assert most == 3
    assert server.connections == 3


async def test_concurrent_answers_are_not_mixed_up() -> None:
    async with serving(echo()) as (origin, _):
        client = Http1Client(limit_per_origin=8)
        answers = await asyncio.gather(*(get(client, origin, f"/{n}") for n in range(200)))
        client.close()
    assert answers == [(200, f"GET /{n} HTTP/1.1".encode()) for n in range(200)]


def test_origins_are_read_from_urls() -> None:
    assert Origin.of("http://booking:8004") == Origin("booking", 8004, False)
    assert Origin.of("https://api.example.com").host_header == "api.example.com"
    assert Origin.of("http://[::1]:8000").host_header == "[::1]:8000"
    with pytest.raises(ValueError, match="not an http"):
        Origin.of("ftp://example.com")
