"""Two server processes on one Redis: a physician on one joins the call held by the other.

Process A holds the patient's consultation; the physician's dashboard is connected to process
B. The patient's emergency sentence on A reaches the dashboard on B; the physician accepts on B;
B reports that A holds the consultation, and A's patient hears that a doctor accepted. The
physician then joins the call through B (the offer travels to A over the bus; the media flows
with A) and takes over through B: A's patient is told.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from dhanvantri.desk.cluster.bus import RedisBus
from tests.realtime.buses import drop_keys, require_redis, unique_prefix
from tests.realtime.conftest import make_settings
from tests.realtime.physician_app import EMERGENCY, add_physician
from tests.support.patient import Patient
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until_async

pytestmark = [pytest.mark.redis, pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "dr.iyer@clinic.example", "long enough passphrase 42"


def start_server(folder: Path, name: str, prefix: str, url: str) -> ServerProcess:
    """``tests.realtime.desk_server`` in a child process, healthy."""
    server = ServerProcess(
        lambda port: [sys.executable, "-m", "tests.realtime.desk_server", "--port", str(port),
                      "--folder", str(folder), "--prefix", prefix, "--redis", url,
                      "--timeout", "60"],
        log=folder / f"{name}.log", cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    server.wait_healthy(60)
    return server


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url, prefix = require_redis(), unique_prefix()
    settings = make_settings(tmp_path)

    add_physician(settings, EMAIL, PASSWORD, "Dr Iyer")  # the shared database, migrated
    started: list[ServerProcess] = []
    try:
        # One at a time: both migrate the shared database.
        started.append(start_server(tmp_path, "a", prefix, url))
        started.append(start_server(tmp_path, "b", prefix, url))
        yield started[0].url, started[1].url
    finally:
        for server in started:
            server.stop()

        async def cleanup() -> None:
            bus = RedisBus(url, prefix)
            await drop_keys(bus)
            await bus.close()

        asyncio.run(cleanup())


async def next_of(ws: Any, kind: str, seconds: float = 20.0) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                if event.get("type") == kind:
                    return event  # type: ignore[no-any-return]
    raise AssertionError(f"socket ended before {kind}")


async def test_escalation_on_one_server_reaches_a_physician_on_the_other(
        servers: tuple[str, str], speech: Any) -> None:
    base_a, base_b = servers
    async with aiohttp.ClientSession() as http:
        login = await http.post(f"{base_b}/api/v1/auth/login",
                                json={"email": EMAIL, "password": PASSWORD})
        assert login.status == 200, await login.text()
        token = (await login.json())["access_token"]
        dashboard = await http.ws_connect(f"{base_b}/api/v1/physician/ws",
                                           headers={"Authorization": f"Bearer {token}"})
        node_b = (await next_of(dashboard, "hello"))["node"]
        assert (await next_of(dashboard, "queue"))["items"] == []

        patient = await Patient.join(http, base_a)
        cid = patient.consultation_id
        await patient.say(np.concatenate([np.zeros(8000, np.int16), speech(EMERGENCY),
                                          np.zeros(16000, np.int16)]))

        news = await next_of(dashboard, "escalation")
        item = news["escalation"]
        assert item["consultation_id"] == cid and item["emergency"] is True
        assert "chest_pain" in item["red_flags"]

        accepted = await http.post(f"{base_b}/api/v1/escalations/{item['id']}/accept",
                                   headers={"Authorization": f"Bearer {token}"})
        assert accepted.status == 200, await accepted.text()
        body = await accepted.json()
        assert body["held_by"] and body["held_by"] != node_b  # process A holds it

        told = await patient.wait_for(of_type("escalation_accepted"))
        assert told["escalation_id"] == item["id"]

        doctor = await join_call(http, f"{base_b}/api/v1/escalations/{item['id']}", token)
        try:
            joined = await patient.wait_for(of_type("doctor"))
            assert joined["joined"] is True and joined["name"] == "Dr Iyer"
            after_joined = patient.events.index(joined) + 1
            await peer_event(doctor, "joined")
            took = await http.post(f"{base_b}/api/v1/escalations/{item['id']}/takeover",
                                   headers={"Authorization": f"Bearer {token}"})
            assert took.status == 200 and (await took.json())["held_by"] == body["held_by"]
            mode = await patient.wait_for(of_type("doctor"), after=after_joined)
            assert mode["mode"] == "takeover"
            assert (await peer_event(doctor, "mode"))["mode"] == "takeover"
        finally:
            await doctor.close()
        await patient.hang_up()
        await dashboard.close()


async def join_call(http: aiohttp.ClientSession, url: str, token: str) -> Any:
    """The physician's browser side: microphone, the events channel, an offer to ``url``."""
    from aiortc import AudioStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.events = []  # type: ignore[attr-defined]
    channel = pc.createDataChannel("events")
    channel.on("message", lambda m: pc.events.append(json.loads(m)))  # type: ignore[attr-defined]
    pc.addTrack(AudioStreamTrack())  # silence is enough here
    await pc.setLocalDescription(await pc.createOffer())
    response = await http.post(url + "/webrtc", headers={"Authorization": f"Bearer {token}"},
                               json={"sdp": pc.localDescription.sdp, "type": "offer"})
    assert response.status == 200, await response.text()
    await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))
    return pc


def of_type(kind: str) -> Any:
    """Accepts events of type ``kind``."""
    return lambda event: event.get("type") == kind


async def peer_event(pc: Any, kind: str) -> dict[str, Any]:
    """The first event of type ``kind`` on the physician's events channel, waiting for it."""
    found = await wait_until_async(lambda: next(filter(of_type(kind), pc.events), None), 20,
                                   what=lambda: f"a {kind!r} event; got {pc.events}")
    return found  # type: ignore[no-any-return]
