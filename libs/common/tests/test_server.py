"""The header-read timeout (ticketing_common.server) on a real uvicorn process: a client that
never finishes its headers is answered 408 and cut off; everyone else is served as before."""

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ticketing_devkit.processes import ServiceProcess

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def server() -> Iterator[ServiceProcess]:
    env = {"PYTHONPATH": str(Path(__file__).parent), "HEADER_READ_TIMEOUT_S": str(TIMEOUT_S)}
    with ServiceProcess("server_app:create_app", env, name="header-timeout") as process:
        yield process


def connect(server: ServiceProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT_S * 5)
    return sock


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> bytes:
    """One whole answer of the test app (its body is `hello`)."""
    data = b""
    while not data.endswith(b"hello"):
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return data


def test_complete_requests_are_served(server: ServiceProcess) -> None:
    assert httpx.get(f"{server.url}/").text == "hello"


def test_headers_that_never_end_get_408_and_the_connection_closed(server: ServiceProcess) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        answer = read_all(sock)  # ends when the server closes
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"application/problem+json" in answer
    assert TIMEOUT_S * 0.9 <= waited < TIMEOUT_S * 4


def test_a_connection_that_sends_nothing_is_closed(server: ServiceProcess) -> None:
    with connect(server) as sock:
        assert read_all(sock).startswith(b"HTTP/1.1 408")


def test_headers_dripped_a_byte_at_a_time_are_cut_off(server: ServiceProcess) -> None:
    """Slowloris: each byte in time for any per-read timeout, the whole never."""
    request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100
    with connect(server) as sock:
        started = time.monotonic()
        try:
            for byte in request:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
                if time.monotonic() - started > TIMEOUT_S * 4:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < TIMEOUT_S * 4


def test_the_next_request_on_a_kept_alive_connection_gets_its_own_time(
    server: ServiceProcess,
) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = read_response(sock)
        assert first.startswith(b"HTTP/1.1 200")
        time.sleep(TIMEOUT_S * 0.6)  # idle between requests: not a slow request
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        time.sleep(TIMEOUT_S * 0.6)
        sock.sendall(b"\r\n")  # done within its own time: served
        second = read_response(sock)
        assert second.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\n")  # and a third that never ends
        assert read_all(sock).startswith(b"HTTP/1.1 408")
