"""A physician on the call: listen, take over (the assistant silent, their voice to the patient),
hand back (the assistant resumes with their notes), leave. Whole server, stand-in models.

The patient speaks over the WebSocket transport; the physician's link is driven directly (its
WebRTC transport is covered by the Chromium test), while every mode change goes through the
HTTP endpoint, the audit trail and the bus, as the physician page sends it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.desk.physician_link import PhysicianLink, resampler
from dhanvantri.desk.routes import DESK
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from tests.platform.helpers import make_staff
from tests.realtime.conftest import make_settings
from tests.realtime.physician_app import EMERGENCY, cheap_passwords, emergency_models
from tests.support.patient import Patient
from tests.support.waiting import wait_until_async

__all__ = ["cheap_passwords"]
RATE = 48000


@pytest.fixture
async def client(tmp_path: Path, cheap_passwords: None) -> AsyncIterator[TestClient]:
    settings = make_settings(tmp_path, escalation_timeout_s=60)
    app = create_app(settings, models=emergency_models(settings))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_listen_take_over_hand_back_and_leave(client: TestClient, speech: Any) -> None:
    app = client.app
    doctor = await make_staff(client, app[SERVICES], Role.PHYSICIAN)
    headers = {"Authorization": f"Bearer {doctor.access}"}
    cid = (await (await client.post("/api/v1/consultations")).json())["id"]
    ws = await client.ws_connect(f"/api/v1/consultations/{cid}/ws")
    await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
    patient = Patient(ws)
    emergency = np.concatenate([np.zeros(8000, np.int16), speech(EMERGENCY),
                                np.zeros(16000, np.int16)])
    await patient.say(emergency)
    await patient.wait_for(lambda e: e.get("type") == "escalation")

    queue = await (await client.get("/api/v1/escalations", headers=headers)).json()
    escalation = queue["items"][0]["id"]
    url = f"/api/v1/escalations/{escalation}"
    early = await client.post(url + "/takeover", headers=headers)
    assert early.status == 409 and (await early.json())["error"]["code"] == "NOT_ACCEPTED"
    assert (await client.post(url + "/accept", headers=headers)).status == 200
    await patient.wait_for(lambda e: e.get("type") == "escalation_accepted")

    # Join (what the WebRTC endpoint does once negotiated).
    live = app[RUNTIME].registry.get(cid).live
    seen: list[dict[str, Any]] = []
    link = PhysicianLink(live, app[RUNTIME].models, physician_id=str(doctor.user_id),
                         name="Dr Asha Rao", send_event=seen.append, rate=RATE)
    await link.start()
    assert seen[0] == {"type": "joined", "consultation_id": cid, "mode": "listen"}
    notes = next(e for e in seen if e["type"] == "notes")
    assert "chest_pain" in notes["red_flags"]
    joined = await patient.wait_for(lambda e: e.get("type") == "doctor")
    assert joined["joined"] is True and joined["name"] == "Dr Asha Rao"
    await patient.wait_for(lambda e: e.get("role") == "assistant" and "has joined the call"
                           in e.get("text", ""))
    heard = link.next_audio(960 * 50)  # the physician hears the call (the announcement)
    assert heard.shape == (960 * 50,)

    # Take over: the assistant stops; the physician's voice reaches the patient.
    response = await client.post(url + "/takeover", headers=headers)
    assert response.status == 200, await response.text()
    assert (await response.json())["held_by"] == app[DESK].node
    await wait_until_async(lambda: link.mode == "takeover", 10)
    await patient.wait_for(lambda e: e.get("type") == "doctor" and e.get("mode") == "takeover")
    mark, before = len(patient.events), len(patient.audio)
    words = resampler(16000, RATE)(speech("Please stay seated, an ambulance is coming."))
    voice = np.concatenate([words, np.zeros(RATE, np.int16)])
    for offset in range(0, len(voice), 960):
        await link.push_audio(voice[offset:offset + 960])
        await asyncio.sleep(0.005)
    await wait_until_async(lambda: any(np.abs(a).max() > 2000 for a in patient.audio[before:]),
                           10)
    # The physician's words are transcribed and shown to both.
    said = await patient.wait_for(lambda e: e.get("role") == "physician" and e.get("final"))
    assert said["text"] == EMERGENCY  # what the stand-in recogniser hears in any loud audio
    assert any(e.get("role") == "physician" for e in seen)
    # The patient speaks again: heard (transcribed), not answered.
    await patient.say(emergency)
    await wait_until_async(lambda: any(e["role"] == "patient" and e["final"]
                                       for e in patient.since(mark, "transcript")), 20)
    await asyncio.sleep(1.0)
    assert not [e for e in patient.since(mark, "transcript") if e["role"] == "assistant"]
    assert {"type": "state", "value": "speaking"} not in patient.events[mark:]

    # Hand back with notes: the assistant speaks again and has the notes in its context.
    response = await client.post(url + "/handback", headers=headers,
                                 json={"notes": "Ambulance called. Keep the patient seated."})
    assert response.status == 200
    await patient.wait_for(lambda e: e.get("role") == "assistant"
                           and "handed the call back" in e.get("text", ""))
    assert live.voice.responder.paused is False
    assert "Ambulance called." in " ".join(live.voice.responder.physician_notes)
    assert "Ambulance called." in " ".join(seen[-1].get("physician_notes", [])) or any(
        "Ambulance called." in " ".join(e.get("physician_notes", []))
        for e in seen if e["type"] == "notes")

    # Leave: the patient is told; the call stays with the assistant.
    assert (await client.post(url + "/leave", headers=headers)).status == 200
    left = await patient.wait_for(lambda e: e.get("type") == "doctor" and not e["joined"])
    assert left["name"] == "Dr Asha Rao"
    assert live.physician is None and link.closed

    async with app[SERVICES].uow() as uow:
        events = await uow.audit.events(entity_type="escalation", entity_id=escalation)
    actions = [e.action for e in events]
    for action in ("escalation_accepted", "escalation_takeover", "escalation_handback",
                   "escalation_leave"):
        assert action in actions
    await ws.send_json({"type": "hangup"})
    await ws.close()
    patient.reader.cancel()


async def test_only_the_accepting_physician_may_command(client: TestClient, speech: Any
                                                        ) -> None:
    app = client.app
    first = await make_staff(client, app[SERVICES], Role.PHYSICIAN)
    second = await make_staff(client, app[SERVICES], Role.PHYSICIAN)
    cid = (await (await client.post("/api/v1/consultations")).json())["id"]
    ws = await client.ws_connect(f"/api/v1/consultations/{cid}/ws")
    await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
    patient = Patient(ws)
    await patient.say(np.concatenate([speech(EMERGENCY), np.zeros(16000, np.int16)]))
    await patient.wait_for(lambda e: e.get("type") == "escalation")
    escalation = (await app[DESK].escalations.queue())[0]["id"]
    url = f"/api/v1/escalations/{escalation}"
    await client.post(url + "/accept", headers={"Authorization": f"Bearer {first.access}"})
    other = await client.post(url + "/takeover",
                              headers={"Authorization": f"Bearer {second.access}"})
    assert other.status == 403
    bad = await client.post(url + "/handback", json={"notes": 5},
                            headers={"Authorization": f"Bearer {first.access}"})
    assert bad.status == 422 and "notes" in json.dumps(await bad.json())
    join = await client.post(url + "/webrtc", json={"sdp": "x", "type": "offer"},
                             headers={"Authorization": f"Bearer {second.access}"})
    assert join.status == 403
    await ws.close()
    patient.reader.cancel()
