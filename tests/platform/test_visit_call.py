"""An appointment's video visit through the whole server (stand-in models, the patient over the
WebSocket transport): the patient joins inside the window, the call is reserved for the booked
physician at once (no other physician can take it), the physician joins it through the visit
route and takes over (the scribe records both sides), and ends it: the patient is told, the
appointment is completed and audited, and the record goes to review as ``physician_ended``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from dhanvantri.desk.physician_link import PhysicianLink, resampler
from dhanvantri.desk.routes import DESK
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.appointments import Appointment, Slot
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.realtime.test_consultation_record import START, sign_in
from tests.support.patient import Patient
from tests.support.waiting import wait_until_async

from .helpers import make_staff

API = "/api/v1"
SLOT = datetime(2026, 10, 28, 3, 30, tzinfo=UTC)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = make_settings(tmp_path, require_auth=True, escalation_timeout_s=60)
    app = create_app(settings, models=stand_in_models(settings))
    test_client = await start(app)
    app[SERVICES].clock = ManualClock(SLOT - timedelta(hours=1))  # the back office's clock
    yield test_client
    await test_client.close()


async def appointment_of(client: TestClient, patient_id: uuid.UUID, physician_id: uuid.UUID
                         ) -> str:
    """A booked appointment in the slot (booking itself is tested with the appointments)."""
    services = client.app[SERVICES]
    async with services.uow() as uow:
        item = Appointment.book(patient_id=patient_id, slot=Slot(physician_id, SLOT,
                                                                 SLOT + timedelta(minutes=30)),
                                fee=0, source="direct", consultation_id=None,  # type: ignore[arg-type]
                                booked_by=patient_id, now=uow.clock())
        uow.appointments.add(item)
        await uow.commit()
        return str(item.id)


async def test_the_booked_physician_takes_the_visit_and_ending_it_completes_it(
        server: TestClient, speech: Any) -> None:
    client, app = server, server.app
    services = app[SERVICES]
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rival = await make_staff(client, services, Role.PHYSICIAN, phone="9123456781")
    token = await sign_in(services)
    auth = {"Authorization": f"Bearer {token}"}
    me = await (await client.get(f"{API}/me", headers=auth)).json()
    appointment = await appointment_of(client, uuid.UUID(me["id"]), doctor.user_id)
    dashboard = await client.ws_connect(f"{API}/physician/ws", headers=doctor.headers)

    early = await client.post(f"{API}/consultations", headers=auth,
                              json={"appointment_id": appointment})
    assert early.status == 409 and (await early.json())["error"]["code"] == "VISIT_NOT_OPEN"
    both = await client.post(f"{API}/consultations", headers=auth,
                             json={"appointment_id": appointment, "patient_id": me["id"]})
    assert both.status == 422
    assert (await both.json())["error"]["details"][0]["field"] == "patient_id"
    services.clock.advance(minutes=55)  # five minutes before the slot
    not_yet = await client.post(f"{API}/appointments/{appointment}/visit/join",
                                headers=doctor.headers)
    assert not_yet.status == 409
    assert (await not_yet.json())["error"]["code"] == "PATIENT_NOT_JOINED"

    created = await client.post(f"{API}/consultations", headers=auth,
                                json={"appointment_id": appointment})
    assert created.status == 201, await created.text()
    body = await created.json()
    cid = body["id"]
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(body["ws_url"])
        await ws.send_json({**START, "access_token": token})
        patient = Patient(ws)
        patient.consultation_id = cid
        await patient.wait_for(lambda e: e.get("type") == "ready", 10)
        # In the waiting room the assistant listens and takes notes (the scribe's record).
        await patient.say(np.concatenate([np.zeros(8000, np.int16), speech("I have a fever."),
                                          np.zeros(16000, np.int16)]))
        await patient.wait_for(lambda e: e.get("role") == "patient" and e.get("final"))
        reserved_event = await next_event(dashboard, lambda e: e.get("event") == "accepted")
        assert reserved_event["escalation"]["accepted_by"] == str(doctor.user_id)

        stranger = await client.post(f"{API}/appointments/{appointment}/visit/join",
                                     headers=rival.headers)
        assert stranger.status == 404
        joined = await client.post(f"{API}/appointments/{appointment}/visit/join",
                                   headers=doctor.headers)
        assert joined.status == 200, await joined.text()
        call = await joined.json()
        assert call["consultation_id"] == cid
        escalation = call["escalation_id"]
        assert escalation == reserved_event["escalation"]["id"]
        taken = await client.post(f"{API}/escalations/{escalation}/accept",
                                  headers=rival.headers)
        assert taken.status == 409  # never offered: it is the booked physician's
        assert (await client.post(f"{API}/escalations/{escalation}/takeover",
                                  headers=rival.headers)).status == 403

        live = app[RUNTIME].registry.get(cid).live
        seen: list[dict[str, Any]] = []
        link = PhysicianLink(live, app[RUNTIME].models, physician_id=str(doctor.user_id),
                             name="Dr Asha Rao", send_event=seen.append, rate=48000)
        await link.start()
        await patient.wait_for(lambda e: "has joined the call" in e.get("text", ""))
        took = await client.post(f"{API}/escalations/{escalation}/takeover",
                                 headers=doctor.headers)
        assert took.status == 200, await took.text()
        await wait_until_async(lambda: any(e.get("mode") == "takeover" for e in seen), 20,
                               what="the physician to have the call")
        # The physician speaks: the patient hears it, and the scribe writes it down.
        voice = np.concatenate([resampler(16000, 48000)(speech("Please rest and drink water.")),
                                np.zeros(48000, np.int16)])
        for offset in range(0, len(voice), 960):
            await link.push_audio(voice[offset:offset + 960])
        await patient.wait_for(lambda e: e.get("role") == "physician" and e.get("final"))

        ended = await client.post(f"{API}/escalations/{escalation}/end", headers=doctor.headers)
        assert ended.status == 200, await ended.text()
        await patient.wait_for(lambda e: e.get("type") == "ended_by_physician")
        await asyncio.wait_for(patient.reader, 30)
        await wait_until_async(lambda: cid not in app[RUNTIME].registry, 30,
                               what="the call to leave the registry")

    seen_by_patient = await (await client.get(f"{API}/appointments/{appointment}",
                                              headers=auth)).json()
    assert seen_by_patient["status"] == "completed"
    assert seen_by_patient["visit"]["open"] is False
    await next_event(dashboard, lambda e: e.get("event") == "resolved")  # settled
    assert await app[DESK].escalations.for_appointment(appointment) is None
    await next_event(dashboard, lambda e: e.get("type") == "review_queue")  # the record queued
    await dashboard.close()
    record = await (await client.get(f"{API}/consultations/{cid}", headers=auth)).json()
    assert (record["status"], record["end_reason"]) == ("completed", "physician_ended")
    assert {"patient", "physician"} <= {turn["role"] for turn in record["turns"]}
    async with services.uow() as uow:
        events = await uow.audit.events(entity_type="appointment", entity_id=appointment)
        reserved = await uow.audit.events(entity_type="escalation", entity_id=escalation)
    assert [e.action for e in events].count("appointment_completed") == 1
    assert [e.actor_id for e in events if e.action == "appointment_visit_joined"] == [
        uuid.UUID(me["id"])]
    assert [e.action for e in reserved][:1] == ["escalation_reserved"]
    assert "escalation_end" in [e.action for e in reserved]


async def next_event(ws: Any, wanted: Any, limit: float = 30.0) -> dict[str, Any]:
    """The next message on the physician's dashboard that ``wanted`` accepts."""
    async with asyncio.timeout(limit):
        while True:
            msg = await ws.receive()
            assert msg.type is WSMsgType.TEXT, msg
            if wanted(event := msg.json()):
                return event  # type: ignore[no-any-return]
