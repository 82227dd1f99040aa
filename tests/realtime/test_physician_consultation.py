"""A consultation's red flag reaches a physician's dashboard through the whole server.

The patient speaks over the WebSocket transport; stand-in speech recognition hears an emergency
sentence, the real clinical guide escalates, and the physician's socket on the same server sees
the escalation; if nobody accepts in time, the patient's socket gets the advice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.desk.routes import DESK
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.realtime.app import create_app
from tests.platform.helpers import make_staff
from tests.realtime.conftest import make_settings
from tests.realtime.physician_app import EMERGENCY, cheap_passwords, emergency_models
from tests.support.patient import stream
from tests.support.waiting import wait_until_async, watch

__all__ = ["cheap_passwords"]
@pytest.fixture
async def client(tmp_path: Path, cheap_passwords: None) -> AsyncIterator[TestClient]:
    settings = make_settings(tmp_path, escalation_timeout_s=1.5)
    app = create_app(settings, models=emergency_models(settings))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def speech_like(speech: Any) -> np.ndarray:
    return np.concatenate([np.zeros(8000, np.int16), speech(EMERGENCY),
                           np.zeros(16000, np.int16)])


async def events_until(ws: Any, wanted: str, limit: float = 20.0) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(limit):
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.TEXT:
                seen.append(json.loads(msg.data))
                if seen[-1].get("type") == wanted:
                    return seen
            elif msg.type is not WSMsgType.BINARY:
                raise AssertionError(f"socket ended: {msg}")


async def test_red_flag_reaches_the_physician_and_timeout_reaches_the_patient(
        client: TestClient, speech: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    released = watch(monkeypatch, client.app[DESK].consultations, "remove")
    doctor = await make_staff(client, client.app[SERVICES], Role.PHYSICIAN)
    dashboard = await client.ws_connect("/api/v1/physician/ws", headers=doctor.headers)
    assert (await dashboard.receive_json())["type"] == "hello"
    assert (await dashboard.receive_json())["items"] == []

    cid = (await (await client.post("/api/v1/consultations")).json())["id"]
    patient = await client.ws_connect(f"/api/v1/consultations/{cid}/ws")
    await patient.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
    await stream(patient, speech_like(speech), speed=4)  # 20 ms frames, 4x real time
    to_patient = await events_until(patient, "escalation")
    assert to_patient[-1]["emergency"] is True

    news = await asyncio.wait_for(dashboard.receive_json(), 10)
    assert news["type"] == "escalation" and news["event"] == "raised"
    item = news["escalation"]
    assert item["consultation_id"] == cid and item["emergency"] is True
    assert "chest_pain" in item["red_flags"]
    assert EMERGENCY not in json.dumps(news)  # identifiers only, never the patient's words
    assert await client.app[DESK].holder(cid) == client.app[DESK].node

    told = await events_until(patient, "escalation_timeout")
    assert "112" in told[-1]["advice"]
    spoken = await events_until(patient, "transcript")  # the advice is said, not only shown
    assert spoken[-1]["role"] == "assistant" and spoken[-1]["text"] == told[-1]["advice"]
    await patient.send_json({"type": "hangup"})
    await patient.close()
    await dashboard.close()
    await wait_until_async(lambda: cid in released, 10,
                           what="the ended consultation to leave the directory")
    assert await client.app[DESK].holder(cid) is None


async def test_the_server_serves_the_physician_page(client: TestClient) -> None:
    page = await client.get("/physician")
    assert page.status == 200
    assert 'src="physician.js"' in await page.text()
    script = await client.get("/physician.js")
    assert script.status == 200 and "/physician/ws" in await script.text()
