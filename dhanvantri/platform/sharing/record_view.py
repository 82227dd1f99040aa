"""The read-only record a family member or a share's recipient sees.

Only what is clinically useful to someone caring for the patient: the profile's facts, the
consultations held (states and times, as the patient's own timeline lists them), prescriptions a
physician has signed, and lab results. Never addresses, payments, drafts or transcripts.

The consultations and lab reports are read as ``record.timeline`` reads them; the prescriptions
differ on purpose: here a prescription's content shows only once the patient acknowledged it.
"""

from __future__ import annotations

import uuid
from typing import Any

from ...http.errors import NotFound
from ...http.principal import Role
from ..domain.consultations import Consultation
from ..domain.labs import LabBooking
from ..domain.prescriptions import VISIBLE_TO_PATIENT, Prescription
from ..prescriptions import describe
from ..record.sources import lab_reports
from ..record.timeline import consultation_item
from ..uow import UnitOfWork

RECORD_ITEMS = 50  # the newest prescriptions and reports a record view lists


async def whole_record(uow: UnitOfWork, patient_id: uuid.UUID) -> dict[str, Any]:
    """The patient's profile facts, consultations, signed prescriptions and lab results."""
    user = await uow.users.get(patient_id)
    profile = await uow.users.patient(patient_id)
    if user is None or profile is None:
        raise NotFound("no such patient")
    found = await uow.prescriptions.list(patient_id=patient_id,
                                         statuses=sorted(VISIBLE_TO_PATIENT), limit=RECORD_ITEMS)
    held = await uow.consultations.list(patient_id=patient_id, limit=RECORD_ITEMS)
    reports = await lab_reports(uow, patient_id, RECORD_ITEMS)
    return {"patient": {"full_name": user.full_name, "date_of_birth": profile.date_of_birth,
                        "sex": profile.sex, "allergies": list(profile.allergies),
                        "conditions": list(profile.conditions),
                        "medicines": list(profile.medicines)},
            "consultations": [_consultation(record) for record in held],
            "prescriptions": [await prescription_item(uow, rx) for rx in found],
            "lab_reports": [lab_item(report.booking) for report in reports]}


def _consultation(record: Consultation) -> dict[str, Any]:
    item = consultation_item(record)
    return {name: item[name] for name in
            ("id", "at", "status", "ended_at", "turn_count", "emergency", "prescription_id")}


async def one_prescription(uow: UnitOfWork, patient_id: uuid.UUID, rx_id: uuid.UUID
                           ) -> dict[str, Any]:
    """One signed prescription of the patient's."""
    rx = await uow.prescriptions.get(rx_id)
    if rx is None or rx.patient_id != patient_id or rx.status not in VISIBLE_TO_PATIENT:
        raise NotFound("no such prescription")
    return await prescription_item(uow, rx)


async def one_lab_report(uow: UnitOfWork, patient_id: uuid.UUID, booking_id: uuid.UUID
                         ) -> dict[str, Any]:
    """One lab booking of the patient's that has results."""
    booking = await uow.labs.booking(booking_id)
    if booking is None or booking.patient_id != patient_id or not booking.results:
        raise NotFound("no such lab report")
    return lab_item(booking)


async def prescription_item(uow: UnitOfWork, rx: Prescription) -> dict[str, Any]:
    """A prescription as the patient may see it (its content once they acknowledged it)."""
    body = await describe(uow, rx, Role.PATIENT, brief=True)
    return {name: body.get(name) for name in
            ("id", "status", "signed_at", "released_at", "physician", "content")}


def lab_item(booking: LabBooking) -> dict[str, Any]:
    """A lab booking's tests and flagged results."""
    return {"id": str(booking.id), "tests": list(booking.tests),
            "results": list(booking.results or []),
            "reported_at": booking.updated_at.isoformat() if booking.updated_at else None}
