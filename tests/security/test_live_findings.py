"""Issue 14 rows 1, 7, 8 and 10: what a probe of live calls found.

1: only the accepting physician (or an admin) resolves an escalation, one nobody accepted is
   never dismissed by a physician, and the patient is always told (shown and spoken);
7: one caller cannot take every consultation slot, and a failed start gives its slot back;
8: a second WebSocket on a live consultation is refused with a close frame, the live session
   goes on;
10: a patient's token never rides in a WebSocket URL, and the access log prints no query.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from dhanvantri.desk.routes import DESK
from dhanvantri.http.principal import Role
from dhanvantri.platform.accounts import request_login_code, verify_login_code
from dhanvantri.platform.audit import list_events
from dhanvantri.platform.bootstrap import SERVICES, Services
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.serve import make_runner
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings
from tests.platform.helpers import make_staff
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.realtime.physician_app import cheap_passwords
from tests.support.patient import Patient
from tests.support.waiting import wait_until_async, watch

__all__ = ["cheap_passwords"]
API = "/api/v1/consultations"
START = {"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"}


@pytest.fixture
async def app_client(tmp_path: Path, cheap_passwords: None) -> AsyncIterator[TestClient]:
    """The full app with stand-in models; guests, limited per address as in production."""
    settings = make_settings(tmp_path, max_sessions=4, consultations_per_address=2,
                             escalation_timeout_s=300.0)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    yield client
    await client.close()


async def guest_call(client: TestClient) -> tuple[str, Patient]:
    """A guest's consultation, joined and started over a WebSocket."""
    cid = (await (await client.post(API)).json())["id"]
    patient = Patient(await client.ws_connect(f"{API}/{cid}/ws"))
    await patient.ws.send_json(START)
    await patient.wait_for(lambda e: e.get("type") == "ready", 10)
    return cid, patient


async def refusal(ws: Any) -> tuple[str, int | None]:
    """The error event's code and the close code a refused start gets."""
    msg = await ws.receive(timeout=10)
    assert msg.type is WSMsgType.TEXT, msg
    event = json.loads(msg.data)
    assert event["type"] == "error"
    while (await ws.receive(timeout=10)).type not in (WSMsgType.CLOSE, WSMsgType.CLOSED):
        pass
    return event["code"], ws.close_code


# ------------------------------------------------------------------ row 1
async def test_row1_only_the_accepting_physician_or_an_admin_resolves_and_the_patient_is_told(
        app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client, desk, services = app_client, app_client.app[DESK], app_client.app[SERVICES]
    cid, patient = await guest_call(client)
    consultation = client.app[RUNTIME].registry.get(cid)
    raised = watch(monkeypatch, desk.escalations, "raise_escalation")
    # What the live session's hook does on a red flag: the desk raises and holds the call.
    desk.on_consultation_event(cid, {"type": "escalation", "reason": "red_flag",
                                     "red_flags": ["chest_pain"], "emergency": True},
                               consultation.live.receive, consultation.closed)
    await wait_until_async(lambda: cid in raised, 10, what="the escalation to be raised")
    (escalation,) = await desk.escalations.store.open()
    first = await make_staff(client, services, Role.PHYSICIAN)
    second = await make_staff(client, services, Role.PHYSICIAN)
    url = f"/api/v1/escalations/{escalation.id}"

    # Nobody accepted the emergency: a physician cannot dismiss it.
    refused = await client.post(f"{url}/resolve", headers=second.headers)
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "NOT_ACCEPTED"
    assert [e["id"] for e in await desk.escalations.queue()] == [escalation.id]
    assert (await client.post(f"{url}/accept", headers=first.headers)).status == 200
    # Another physician cannot resolve the one the first accepted.
    stolen = await client.post(f"{url}/resolve", headers=second.headers)
    assert stolen.status == 403
    assert (await stolen.json())["error"]["code"] == "FORBIDDEN"
    assert (await desk.escalations.queue())[0]["status"] == "accepted"

    mark = len(patient.events)
    done = await client.post(f"{url}/resolve", headers=first.headers)
    assert done.status == 200 and (await done.json())["status"] == "resolved"
    told = await patient.wait_for(lambda e: e.get("type") == "escalation_resolved", 10,
                                  after=mark)
    assert "112" in told["advice"]
    # Spoken, not only shown: the assistant speaks it (reply audio follows).
    await patient.wait_for(lambda e: e == {"type": "state", "value": "speaking"}, 10, after=mark)
    await wait_until_async(lambda: patient.audio, 10, what="the spoken advice")

    # An admin may close one nobody accepted; the patient is told to call the emergency number.
    again = await desk.escalations.raise_escalation(cid, reason="red_flag", emergency=True)
    admin = await make_staff(client, services, Role.ADMIN)
    mark = len(patient.events)
    closed = await client.post(f"/api/v1/escalations/{again.id}/resolve", headers=admin.headers)
    assert closed.status == 200, await closed.text()
    told = await patient.wait_for(lambda e: e.get("type") == "escalation_resolved"
                                  and e["escalation_id"] == again.id, 10, after=mark)
    assert told["emergency"] is True and "112" in told["advice"]
    events = await list_events(services.uow(), "escalation", again.id, 0, 50)
    resolved = [e for e in events if e["action"] == "escalation_resolved"]
    assert len(resolved) == 1 and resolved[0]["actor_role"] == "admin"
    assert await desk.escalations.queue() == []
    await patient.hang_up()


# ------------------------------------------------------------------ row 7
async def test_row7_one_caller_cannot_hold_every_slot_and_a_failed_start_frees_its_slot(
        app_client: TestClient) -> None:
    client = app_client
    registry = client.app[RUNTIME].registry
    assert Settings().consultation_connect_timeout_s <= 30  # an unjoined slot comes back soon
    ids = [(await (await client.post(API)).json())["id"] for _ in range(2)]
    third = await client.post(API)
    assert third.status == 429  # one address, guests: at most 2 at once (4 slots)
    body = await third.json()
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["error"]["details"]["per"] == "address" and third.headers["Retry-After"]
    # A start refused for a bad message gives the slot back at once (no wait for a timeout).
    ws = await client.ws_connect(f"{API}/{ids[0]}/ws")
    await ws.send_json({**START, "sample_rate": 1})
    assert await refusal(ws) == ("BAD_START", 4400)
    await wait_until_async(lambda: ids[0] not in registry, 10, what="the slot to come back")
    assert (await client.post(API)).status == 201


async def test_row7_one_signed_in_patient_holds_at_most_two(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, require_auth=True, max_sessions=8)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        token = await sign_in(client.app[SERVICES])
        auth = {"Authorization": f"Bearer {token}"}
        statuses = [(await client.post(API, headers=auth)).status for _ in range(3)]
        assert statuses == [201, 201, 429]
        other = await sign_in(client.app[SERVICES], "9876500001")
        assert (await client.post(API, headers={"Authorization": f"Bearer {other}"})
                ).status == 201  # the limit is the patient's, not the server's
    finally:
        await client.close()


# ------------------------------------------------------------------ row 8
async def test_row8_a_second_socket_is_refused_by_a_close_frame_and_the_call_goes_on(
        app_client: TestClient, speech: Any) -> None:
    client = app_client
    cid = (await (await client.post(API)).json())["id"]
    first = await client.ws_connect(f"{API}/{cid}/ws")
    # Upgraded before the first starts: only the start message can refuse these.
    second = await client.ws_connect(f"{API}/{cid}/ws")
    third = await client.ws_connect(f"{API}/{cid}/ws")
    await first.send_json(START)
    patient = Patient(first)
    await patient.wait_for(lambda e: e.get("type") == "ready", 10)
    await second.send_json(START)
    assert await refusal(second) == ("ALREADY_JOINED", 4409)
    await third.send_str("not a start message")  # a bad start must not end the live call
    assert await refusal(third) == ("BAD_START", 4400)
    # Once joined, a duplicate is refused before the upgrade, in JSON.
    late = await client.get(f"{API}/{cid}/ws")
    assert late.status == 409 and (await late.json())["error"]["code"] == "ALREADY_JOINED"
    offer = await client.post(f"{API}/{cid}/webrtc", json={"sdp": "v=0", "type": "offer"})
    assert offer.status == 409 and (await offer.json())["error"]["code"] == "ALREADY_JOINED"
    # The first session is untouched: it still hears and answers the patient.
    assert cid in client.app[RUNTIME].registry
    silence = np.zeros(16000, np.int16)
    await patient.say(np.concatenate([silence, speech("I have a fever."), silence, silence]),
                      speed=4)
    said = await patient.wait_for(lambda e: e.get("type") == "transcript"
                                  and e.get("role") == "patient" and e.get("final"), 30)
    assert said["text"] == "I have a fever"
    await patient.hang_up()


# ------------------------------------------------------------------ row 10
async def sign_in(services: Services, phone: str = "9876543210") -> str:
    """A patient's access token, through the same use cases as the OTP routes."""
    outbox = OutboxNotifier()
    challenge = await request_login_code(services.uow(), services.otps, outbox, phone)
    pair = await verify_login_code(services.uow(), services.otps, services.tokens,
                                   uuid.UUID(challenge["challenge_id"]), outbox.last_code(),
                                   None)
    return pair.access_token


async def test_row10_the_token_comes_in_the_start_message_and_no_log_prints_a_query(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, require_auth=True)
    app = create_app(settings, models=stand_in_models(settings))
    runner = make_runner(app)  # as `dhanvantri serve` runs it
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    caplog.set_level(logging.INFO)
    try:
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}"
        token = await sign_in(app[SERVICES])
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}{API}",
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                cid = (await response.json())["id"]
            # The old way, a token in the URL, is not accepted any more.
            ws = await http.ws_connect(f"{base}{API}/{cid}/ws?access_token={token}")
            await ws.send_json(START)
            assert await refusal(ws) == ("UNAUTHORIZED", 4401)
            ws = await http.ws_connect(f"{base}{API}/{cid}/ws")
            await ws.send_json({**START, "access_token": token})
            assert json.loads((await ws.receive(timeout=10)).data)["type"] == "ready"
            assert app[RUNTIME].registry.get(cid).transport == "ws"
            await ws.send_json({"type": "hangup"})
            await ws.close()
            async with http.get(f"{base}/api/v1/physician/ws?token={token}"):
                pass
        await wait_until_async(lambda: cid not in app[RUNTIME].registry, 10,
                               what="the call to end")
    finally:
        await runner.cleanup()
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert any(f"/consultations/{cid}/ws" in r.getMessage() for r in access)
    assert not any(token in r.getMessage() for r in caplog.records)
    assert not any("?" in r.getMessage() for r in access)
