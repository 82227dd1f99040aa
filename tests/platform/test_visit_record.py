"""A consultation held as a booked appointment's visit says so in its record: the appointment,
how it was held (video only when video flowed both ways) and whether it was the patient's first
consultation with a physician (a follow-up booked from a prescription is not). The safety gate
reads that: a TPG List A medicine at a first consultation is blocked by audio, allowed by video.

The record goes the way a live call's does: the realtime server's recorder writes it through the
back office's record writer, and the hang-up closes it into the review queue.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.background import Background
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.domain.appointments import Appointment, AppointmentSource, Slot
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.record_writer import RecordWriter
from dhanvantri.platform.web.consultation_routes import CIPHER
from dhanvantri.realtime.recorder import Recorder

from .helpers import Person, login_patient, make_staff

API = "/api/v1"
# What the call's clinical module drafted: amoxicillin, a List A medicine.
NOTES = {"intake": {"complaint": "ear pain", "age_years": 30, "missing": []},
         "red_flags": [], "physician_notes": [],
         "draft": {"diagnosis": "Acute otitis media", "medications": [
             {"name": "Amoxicillin", "dose": "500 mg", "frequency": "TDS",
              "duration": "5 days"}]}}


class LiveCall:
    """What the recorder reads of a visit's live session: the notes, and how it was held."""

    def __init__(self, held_as: str) -> None:
        self.held_as = held_as

    def tokenize(self, text: str) -> str:
        return text

    def clinical_record(self) -> dict[str, Any]:
        return dict(NOTES)


async def book(services: Services, patient: Person, doctor: Person,
               source: AppointmentSource) -> str:
    async with services.uow() as uow:
        starts = uow.clock() + timedelta(days=1)
        item = Appointment.book(patient_id=patient.user_id,
                                slot=Slot(doctor.user_id, starts, starts + timedelta(minutes=30)),
                                fee=0, source=source, consultation_id=None,  # type: ignore[arg-type]
                                booked_by=patient.user_id, now=uow.clock())
        uow.appointments.add(item)
        await uow.commit()
        return str(item.id)


async def held_visit(client: TestClient, services: Services, patient: Person, appointment: str,
                     held_as: str) -> uuid.UUID:
    """A visit's call recorded as the server records it, then hung up: its review draft."""
    live_id = secrets.token_urlsafe(16)
    writer = RecordWriter(services, client.app[CIPHER], "en")
    background = Background(logging.getLogger(__name__), "test")
    recorder = Recorder(live_id, patient.user_id, LiveCall(held_as), writer, background,
                        appointment_id=appointment)
    recorder.on_event({"type": "draft_ready"})
    recorder.on_event({"type": "ended"})
    await asyncio.wait_for(recorder.task, 30)
    async with services.uow() as uow:
        record = await uow.consultations.get(record_id(live_id))
        assert record is not None and record.prescription_id is not None
        return record.prescription_id


@pytest.mark.parametrize(("source", "held_as", "first", "blocked"), [
    (AppointmentSource.INTAKE, "audio", True, True),
    (AppointmentSource.INTAKE, "video", True, False),
    (AppointmentSource.DIRECT, "audio", True, True),
    (AppointmentSource.FOLLOW_UP, "audio", False, False),
])
async def test_the_visit_record_names_the_visit_and_the_gate_follows_it(
        client: TestClient, services: Services, outbox: OutboxNotifier,
        source: AppointmentSource, held_as: str, first: bool, blocked: bool) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    appointment = await book(services, patient, doctor, source)
    rx_id = await held_visit(client, services, patient, appointment, held_as)
    view = await (await client.get(f"{API}/prescriptions/{rx_id}",
                                   headers=doctor.headers)).json()
    held = view["ai_draft"]["consultation"]
    assert (held["appointment_id"], held["mode"], held["first"]) == (appointment, held_as, first)
    assert view["consultation"] == {"first": first, "mode": held_as, "stated": False}
    list_a = [i for i in view["safety"]["issues"] if i["code"] == "TELECONSULTATION"
              and i["severity"] == "block"]
    assert bool(list_a) is blocked and view["safety"]["blocked"] is blocked
