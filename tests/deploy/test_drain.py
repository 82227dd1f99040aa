"""Graceful drain: on SIGTERM a server takes no new consultation, lets the live ones run to their
end (bounded by ``drain_seconds``), then exits 0; a second signal stops it at once.

The process tests run the real ``serve`` loop with stand-in models (tests/deploy/drain_server.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.consultations import ConsultationRegistry, Draining
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.support.patient import Patient
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until_async

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/consultations"
SAID = "I have a fever since yesterday."  # the stand-in recogniser hears "I have a fever"


# ------------------------------------------------------------------ the registry
async def test_a_draining_registry_refuses_new_consultations() -> None:
    registry = ConsultationRegistry(max_sessions=4)
    live = registry.create()
    registry.drain()
    with pytest.raises(Draining) as refused:
        registry.create(uuid.uuid4())
    assert refused.value.status == 503 and refused.value.details["draining"] is True
    assert refused.value.details["retry_after"] >= 1
    assert live.id in registry  # what was there carries on


async def test_wait_empty_returns_when_the_last_live_one_closes() -> None:
    registry = ConsultationRegistry(max_sessions=4)
    first, second = registry.create(), registry.create()
    first.claim("ws")
    second.claim("ws")
    registry.drain()
    empty = asyncio.ensure_future(registry.wait_empty())
    await registry.close(first.id)
    await asyncio.sleep(0)  # let the waiter look
    assert not empty.done()
    await registry.close(second.id)
    async with asyncio.timeout(5):
        await empty


async def test_wait_empty_lets_an_unjoined_consultation_expire() -> None:
    registry = ConsultationRegistry(max_sessions=4, connect_timeout=0.05)
    unjoined = registry.create()
    registry.drain()
    async with asyncio.timeout(5):
        await registry.wait_empty()
    assert unjoined.id not in registry and unjoined.closed.is_set()


# ------------------------------------------------------------------ the application
async def test_a_draining_app_fails_health_and_refuses_posts_with_retry_details(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        created = await client.post(API)
        assert created.status == 201
        body = await created.json()
        assert created.headers["Location"].endswith(f"{API}/{body['id']}")
        from dhanvantri.realtime.state import RUNTIME

        client.app[RUNTIME].registry.drain()
        health = await client.get("/healthz")
        assert health.status == 503 and (await health.json())["status"] == "draining"
        refused = await client.post(API)
        assert refused.status == 503 and refused.headers["Retry-After"] == "2"
        error = (await refused.json())["error"]
        assert error["code"] == "SERVER_BUSY" and error["details"]["draining"] is True
    finally:
        await client.close()


# ------------------------------------------------------------------ a real server process
def serve(folder: Path, drain_seconds: float = 600.0) -> ServerProcess:
    server = ServerProcess(
        lambda port: [sys.executable, "-m", "tests.deploy.drain_server", "--port", str(port),
                      "--folder", str(folder), "--drain-seconds", str(drain_seconds)],
        log=folder / "server.log", cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    server.wait_healthy(90)
    return server


async def draining(server: ServerProcess) -> None:
    await wait_until_async(lambda: server.health() == (503, "draining"), 30,
                           what=lambda: f"/healthz to say draining\n{server.log_tail()}")


async def exit_code(server: ServerProcess) -> int:
    return await asyncio.to_thread(server.process.wait, 60)


@pytest.mark.timeout(180)
async def test_a_live_call_outlasts_sigterm_then_the_server_exits_0(
        tmp_path: Path, speech: Any) -> None:
    server = serve(tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            patient = await Patient.join(http, server.url)
            server.process.send_signal(signal.SIGTERM)
            await draining(server)
            async with http.post(server.url + API) as refused:
                assert refused.status == 503
                error = (await refused.json())["error"]
            assert error["code"] == "SERVER_BUSY" and error["details"]["draining"] is True

            # The live call still hears the patient and answers with speech.
            mark, frames = len(patient.events), len(patient.audio)
            await patient.say(np.concatenate([speech(SAID), np.zeros(32000, np.int16)]),
                              speed=4)
            await patient.wait_for(lambda e: e.get("type") == "metrics", 30, after=mark)
            heard = [e for e in patient.since(mark, "transcript")
                     if e["role"] == "patient" and e.get("final")]
            assert heard and "fever" in heard[0]["text"]
            assert len(patient.audio) > frames
            assert server.process.poll() is None  # still there while the call is live
            await patient.hang_up()
        assert await exit_code(server) == 0
        assert "drained: every consultation has ended" in server.log_tail()
    finally:
        server.stop()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("ending", ["second signal", "drain bound"])
async def test_a_call_still_live_is_hung_up_when_the_drain_ends(tmp_path: Path,
                                                                 ending: str) -> None:
    server = serve(tmp_path, drain_seconds=600.0 if ending == "second signal" else 0.5)
    try:
        async with aiohttp.ClientSession() as http:
            patient = await Patient.join(http, server.url)
            server.process.send_signal(signal.SIGTERM)
            if ending == "second signal":
                await draining(server)
                server.process.send_signal(signal.SIGTERM)
            assert await exit_code(server) == 0
            async with asyncio.timeout(10):
                await patient.reader  # the server closed the socket
            assert patient.ws.closed
        assert "drain over with 1 consultations live" in server.log_tail()
    finally:
        server.stop()
