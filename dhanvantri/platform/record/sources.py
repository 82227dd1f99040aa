"""What the record reads from the other areas' tables that their repositories do not offer:
reported lab bookings (newest report first) and the intake inside a consultation's sealed notes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from ..domain.consultations import Consultation
from ..domain.labs import BookingStatus, LabBooking
from ..record_cipher import RecordCipher, SealError
from ..tables.commerce import lab_bookings, merchants
from ..uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabReport:
    """A reported booking, its lab's name and its tests' names."""

    booking: LabBooking
    lab: str
    tests: list[str]


async def lab_reports(uow: UnitOfWork, patient_id: uuid.UUID, limit: int, offset: int = 0
                      ) -> list[LabReport]:
    """A patient's reported lab bookings, newest report first (the PDFs are not loaded)."""
    rows = (await uow.session.execute(
        select(LabBooking, merchants.c.name)
        .options(defer(LabBooking.report_pdf))  # type: ignore[arg-type]
        .join(merchants, merchants.c.id == lab_bookings.c.merchant_id)
        .where(lab_bookings.c.patient_id == patient_id,
               lab_bookings.c.status == BookingStatus.REPORTED)
        .order_by(lab_bookings.c.updated_at.desc(), lab_bookings.c.id)
        .limit(limit).offset(offset))).all()
    codes = sorted({code for booking, _ in rows for code in booking.tests})
    names = {test.code: test.name for test in await uow.labs.tests(codes)} if codes else {}
    return [LabReport(booking, lab, [names.get(code, code) for code in booking.tests])
            for booking, lab in rows]


def notes_of(cipher: RecordCipher, record: Consultation) -> dict[str, Any]:
    """A consultation's sealed notes ({} when there are none).

    Notes that do not open (sealed under a key this server no longer holds) leave what they
    hold out rather than the whole record; the consultation itself is still listed.
    """
    try:
        notes = cipher.open_json(record.notes_sealed, record.id)
    except SealError:
        log.warning("consultation %s: notes do not open; what they hold is left out", record.id)
        return {}
    return notes if isinstance(notes, dict) else {}


def intake_of(cipher: RecordCipher, record: Consultation) -> dict[str, Any]:
    """The structured intake stored in a consultation's sealed notes ({} when none)."""
    return intake_in(notes_of(cipher, record))


def intake_in(notes: dict[str, Any]) -> dict[str, Any]:
    """The structured intake in a consultation's opened notes ({} when none)."""
    intake = notes.get("intake")
    return intake if isinstance(intake, dict) else {}


def present_symptoms(intake: dict[str, Any]) -> list[str]:
    """The names of the symptoms the patient said they have."""
    return [str(s.get("name") or s.get("key")) for s in intake.get("symptoms") or []
            if isinstance(s, dict) and s.get("present")]


def medication_names(content: dict[str, Any]) -> list[str]:
    """The medicines a prescription's content names."""
    return [str(m.get("name")) for m in content.get("medications") or []
            if isinstance(m, dict) and m.get("name")]


def signer_of(signature: dict[str, Any] | None) -> dict[str, Any]:
    """The signing physician's facts stored with a prescription's signature ({} if unsigned)."""
    signer = (signature or {}).get("signer")
    return signer if isinstance(signer, dict) else {}

