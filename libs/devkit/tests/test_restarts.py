"""`make dev` keeps its services running: one that dies (here: SIGKILL, twice) is started again
with a growing back-off and a line in the log, instead of the whole stack stopping."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest
from ticketing_devkit import dev
from ticketing_devkit.dev import Stack
from ticketing_devkit.processes import free_port, listening_pid
from ticketing_devkit.stack import ServiceSpec


async def _healthy(url: str, timeout_s: float = 30) -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        for _ in range(int(timeout_s * 10)):
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never healthy")


async def test_a_killed_service_is_started_again_with_back_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The service is a stand-in served by the standard library instead of uvicorn.
    script = str(Path(__file__).with_name("restart_app.py"))
    monkeypatch.setattr(
        dev, "uvicorn_command", lambda app, port: [sys.executable, script, str(port)]
    )
    spec = ServiceSpec(name="victim", app="restart_app", dev_port=free_port())
    stack = Stack([spec], [])
    await stack._start_service(spec)
    supervisor = asyncio.create_task(stack.supervise())
    try:
        await _healthy(spec.dev_url)
        for restart in (1, 2):
            victim = stack.services["victim"]
            os.kill(victim.pid, signal.SIGKILL)  # a crash: no chance to clean up
            await victim.wait()
            for _ in range(300):
                if stack.services["victim"] is not victim:
                    break
                await asyncio.sleep(0.05)
            await _healthy(spec.dev_url)
            out = capsys.readouterr().out
            assert f"victim exited (signal SIGKILL); restarting it in {2 ** (restart - 1)} s" in out
            assert f"(restart {restart} in a row)" in out
            for _ in range(100):  # the "back" line follows the health check
                if "victim is back" in out:
                    break
                await asyncio.sleep(0.05)
                out += capsys.readouterr().out
            assert "victim is back (healthy" in out
        assert not supervisor.done()  # the stack keeps running
    finally:
        supervisor.cancel()
        await asyncio.gather(supervisor, return_exceptions=True)
        await stack.stop()


def test_the_process_behind_a_port_is_found() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert listening_pid(port) == os.getpid()
    assert listening_pid(port) is None
