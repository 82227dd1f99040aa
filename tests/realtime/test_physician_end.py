"""A physician ends the consultation: the patient is told (shown and spoken), the call ends, and
its record goes to the review queue once with end reason ``physician_ended``.

Whole server, stand-in models, a signed-in patient over the WebSocket transport. The physician's
link is driven directly (as in ``test_physician_join``); the command goes through the HTTP
endpoint, the audit trail and the bus, as the physician page sends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from dhanvantri.desk.physician_link import PhysicianLink
from dhanvantri.desk.routes import DESK
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.live import LiveSession
from dhanvantri.realtime.metrics import ServerMetrics
from dhanvantri.realtime.state import RUNTIME
from tests.platform.helpers import make_staff
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.realtime.physician_app import EMERGENCY, cheap_passwords, emergency_models
from tests.realtime.test_consultation_record import call, sign_in
from tests.support.patient import Patient
from tests.support.waiting import wait_until_async, watch

__all__ = ["cheap_passwords"]
API = "/api/v1"


@pytest.fixture
async def client(tmp_path: Path, cheap_passwords: None) -> AsyncIterator[TestClient]:
    settings = make_settings(tmp_path, require_auth=True, escalation_timeout_s=60)
    test_client = await start(create_app(settings, models=emergency_models(settings)))
    yield test_client
    await test_client.close()


async def escalate_and_join(client: TestClient, patient: Patient, speech: Any,
                            doctor: Any) -> tuple[str, PhysicianLink, list[dict[str, Any]]]:
    """The patient's emergency escalates; the doctor accepts and joins. The escalation's id,
    the doctor's link and what their screen was sent."""
    await patient.say(np.concatenate([np.zeros(8000, np.int16), speech(EMERGENCY),
                                      np.zeros(16000, np.int16)]))
    await patient.wait_for(lambda e: e.get("type") == "escalation")
    escalation = (await client.app[DESK].escalations.queue())[0]["id"]
    accepted = await client.post(f"{API}/escalations/{escalation}/accept", headers=doctor.headers)
    assert accepted.status == 200, await accepted.text()
    live = client.app[RUNTIME].registry.get(patient.consultation_id or "").live
    seen: list[dict[str, Any]] = []
    link = PhysicianLink(live, client.app[RUNTIME].models, physician_id=str(doctor.user_id),
                         name="Dr Asha Rao", send_event=seen.append, rate=48000)
    await link.start()
    await patient.wait_for(lambda e: "has joined the call" in e.get("text", ""))
    return escalation, link, seen


async def test_a_physician_ends_the_call_and_its_record_is_queued_once(
        client: TestClient, speech: Any, caplog: pytest.LogCaptureFixture) -> None:
    app, services = client.app, client.app[SERVICES]
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    dashboard = await client.ws_connect(f"{API}/physician/ws", headers=doctor.headers)
    token = await sign_in(services)
    async with aiohttp.ClientSession() as http:
        patient = await call(http, str(client.make_url("")).rstrip("/"), token)
        cid = patient.consultation_id or ""
        escalation, link, seen = await escalate_and_join(client, patient, speech, doctor)

        mark = len(patient.events)
        ended = await client.post(f"{API}/escalations/{escalation}/end", headers=doctor.headers)
        assert ended.status == 200, await ended.text()
        assert (await ended.json())["held_by"] == app[DESK].node
        told = await patient.wait_for(lambda e: e.get("type") == "ended_by_physician",
                                      after=mark)
        assert told["name"] == "Dr Asha Rao"
        goodbye = await patient.wait_for(lambda e: e.get("role") == "assistant"
                                         and "ended the consultation" in e.get("text", ""),
                                         after=mark)
        assert goodbye["text"].startswith("Dr Asha Rao has ended the consultation.")
        said_at = patient.event_at[patient.events.index(goodbye)]
        # Then the server hangs up: the patient's socket closes, the call leaves the registry.
        await asyncio.wait_for(patient.reader, 30)
        # ... once the goodbye has played (the stand-in voice is a loud tone).
        assert any(at >= said_at and np.abs(audio).max() > 2000
                   for at, audio in zip(patient.audio_at, patient.audio, strict=True))
        assert "farewell did not finish" not in caplog.text
        assert patient.ws.close_code == 1001
        await wait_until_async(lambda: cid not in app[RUNTIME].registry and link.closed, 30,
                               what="the call to leave the registry and the link to close")
        assert {"type": "doctor", "joined": False, "name": "Dr Asha Rao", "mode": None} in seen

    queued = await next_review(dashboard)  # the record is closed and queued
    assert (queued["status"], queued["urgent"]) == ("pending_review", True)  # it escalated
    record = await (await client.get(f"{API}/consultations/{cid}",
                                     headers={"Authorization": f"Bearer {token}"})).json()
    assert (record["status"], record["end_reason"]) == ("completed", "physician_ended")
    items = (await (await client.get(f"{API}/prescriptions/queue",
                                     headers=doctor.headers)).json())["items"]
    assert [(i["id"], i["consultation_id"]) for i in items] == [
        (queued["prescription_id"], str(record_id(cid)))]
    async with services.uow() as uow:
        audited = await uow.audit.events(entity_type="escalation", entity_id=escalation)
    assert "escalation_end" in [e.action for e in audited]
    await dashboard.close()


async def next_review(ws: Any, limit: float = 30.0) -> dict[str, Any]:
    async with asyncio.timeout(limit):
        while True:
            msg = await ws.receive()
            assert msg.type is WSMsgType.TEXT, msg
            if (event := msg.json()).get("type") == "review_queue":
                return event  # type: ignore[no-any-return]


async def test_end_is_refused_once_the_call_is_over(client: TestClient, speech: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    services = client.app[SERVICES]
    released = watch(monkeypatch, client.app[DESK].consultations, "remove")
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    token = await sign_in(services)
    async with aiohttp.ClientSession() as http:
        patient = await call(http, str(client.make_url("")).rstrip("/"), token)
        escalation, link, _ = await escalate_and_join(client, patient, speech, doctor)
        await patient.hang_up()
    await wait_until_async(lambda: patient.consultation_id in released, 20,
                           what="the ended call to leave the directory")
    late = await client.post(f"{API}/escalations/{escalation}/end", headers=doctor.headers)
    assert late.status == 404 and (await late.json())["error"]["code"] == "NOT_LIVE"
    assert link.closed


@pytest.mark.parametrize(("reason", "ended"), [
    (None, {"type": "ended"}),  # a hang-up or a shutdown: the recorder knows which
    ("physician_ended", {"type": "ended", "reason": "physician_ended"})])
async def test_the_last_event_carries_the_reason_it_was_given(
        tmp_path: Path, reason: str | None, ended: dict[str, Any]) -> None:
    settings = make_settings(tmp_path)
    seen: list[dict[str, Any]] = []
    live = LiveSession(stand_in_models(settings), "c1", settings.output_sample_rate,
                       lambda event: None, ServerMetrics(),
                       on_event=lambda cid, event, send: seen.append(event))
    await live.start()
    await live.close(reason)
    await live.close("too late")  # the record closes once, with the first reason
    assert seen[-1] == ended and seen.count(ended) == 1
