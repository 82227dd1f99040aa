"""The patient's record as one timeline: consultations, intakes, prescriptions, medicine
orders, lab reports and uploaded documents, newest first, a page at a time.

Each source is read newest first up to the end of the page asked for (``offset + limit``, plus
one to know whether more follow) and the lists are merged; the sources keep their own tables.
Paging by offset re-reads earlier items, which is why the offset is bounded (``MAX_OFFSET``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ...http.errors import Forbidden
from ...http.principal import Role
from ..consultations import visit_of, visit_title
from ..domain.audit import Actor
from ..domain.consultations import Consultation
from ..domain.money import text
from ..domain.orders import Order
from ..domain.prescriptions import VISIBLE_TO_PATIENT, Prescription
from ..record_cipher import RecordCipher
from ..uow import UnitOfWork
from .document_store import DocumentStore
from .documents import describe as describe_document
from .sources import (
    LabReport,
    intake_in,
    lab_reports,
    medication_names,
    notes_of,
    present_symptoms,
    signer_of,
)

ENTITY = "patient_record"
MAX_OFFSET = 1000  # older than this, the patient narrows by kind (or exports the FHIR bundle)
# Within one instant the consultation comes before what came of it.
_ORDER = {"document": 0, "lab_report": 1, "order": 2, "prescription": 3, "intake": 4,
          "consultation": 5}


async def timeline(uow: UnitOfWork, cipher: RecordCipher, viewer: Actor, limit: int,
                   offset: int) -> dict[str, Any]:
    """One page of the viewer's own record, newest first (the read is audited).

    Args:
        uow: a fresh unit of work.
        cipher: opens the consultations' notes (the intake is in them).
        viewer: the patient.
        limit: items per page.
        offset: items to skip.

    Returns:
        ``{"items", "limit", "offset", "has_more"}``.
    """
    if Role(viewer.role) != Role.PATIENT or viewer.user_id is None:
        raise Forbidden("only a patient has a record to read here",
                        details={"required": "patient"})
    patient_id, want = viewer.user_id, offset + limit + 1
    async with uow:
        consultations = await uow.consultations.list(patient_id=patient_id, limit=want)
        items = [
            *_consultations(consultations, cipher),
            *map(_prescription, await uow.prescriptions.list(
                patient_id=patient_id, statuses=list(VISIBLE_TO_PATIENT), limit=want)),
            *map(_order, await uow.orders.list(patient_id=patient_id, limit=want)),
            *map(_lab_report, await lab_reports(uow, patient_id, want)),
            *({**describe_document(d), "kind": "document", "document_kind": d.kind.value,
               "at": _iso(d.created_at), "status": None}
              for d in await DocumentStore(uow).of_patient(patient_id, want)),
        ]
        items.sort(key=lambda item: (item["at"], _ORDER[item["kind"]], item["id"]),
                   reverse=True)
        page = items[offset:offset + limit]
        uow.record(viewer, "record_viewed", ENTITY, patient_id,
                   new={"mode": "timeline", "lines": len(page)})
        await uow.commit()
    return {"items": [_shape(item) for item in page], "limit": limit, "offset": offset,
            "has_more": len(items) > offset + limit}


def _shape(item: dict[str, Any]) -> dict[str, Any]:
    """Every item has the same keys: what varies goes under ``detail``."""
    common = ("kind", "id", "at", "title", "status")
    return {**{k: item.get(k) for k in common},
            "detail": {k: v for k, v in item.items() if k not in common}}


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _consultations(found: Iterable[Consultation], cipher: RecordCipher
                   ) -> Iterable[dict[str, Any]]:
    for record in found:
        notes = notes_of(cipher, record)  # opened once: the visit and the intake are in them
        item = consultation_item(record)
        item["title"] = visit_title(visit_of(notes))  # "Video visit" for a visit's
        yield item
        intake = intake_in(notes)
        symptoms = present_symptoms(intake)
        if intake.get("complaint") or symptoms:
            yield {"kind": "intake", "id": str(record.id), "at": _iso(record.started_at),
                   "title": str(intake.get("complaint") or ", ".join(symptoms)),
                   "status": None, "consultation_id": str(record.id), "symptoms": symptoms,
                   "duration": intake.get("duration"), "severity": intake.get("severity")}


def consultation_item(record: Consultation) -> dict[str, Any]:
    """A consultation as a record line: its states and times, never its words (the family's
    and a share's record view list it so too)."""
    return {"kind": "consultation", "id": str(record.id), "at": _iso(record.started_at),
            "title": "Consultation", "status": record.status.value,
            "ended_at": record.ended_at.isoformat() if record.ended_at else None,
            "turn_count": record.turns, "emergency": record.emergency,
            "prescription_id": str(record.prescription_id) if record.prescription_id else None}


def _prescription(rx: Prescription) -> dict[str, Any]:
    signer = signer_of(rx.signature)
    return {"kind": "prescription", "id": str(rx.id), "at": _iso(rx.created_at),
            "title": str(rx.content.get("diagnosis") or "Prescription"),
            "status": rx.status.value, "medicines": medication_names(rx.content),
            "lab_tests": [str(t) for t in rx.content.get("lab_tests") or []],
            "signed_at": rx.signed_at.isoformat() if rx.signed_at else None,
            "physician": signer.get("full_name"), "consultation_id": str(rx.consultation_id)}


def _order(order: Order) -> dict[str, Any]:
    return {"kind": "order", "id": str(order.id), "at": _iso(order.created_at),
            "title": "Medicine order", "status": order.status.value,
            "total": text(order.total), "medicines": [line.name for line in order.lines],
            "prescription_id": str(order.prescription_id) if order.prescription_id else None}


def _lab_report(report: LabReport) -> dict[str, Any]:
    booking = report.booking
    return {"kind": "lab_report", "id": str(booking.id), "at": _iso(booking.updated_at),
            "title": ", ".join(report.tests) or "Lab report", "status": booking.status.value,
            "lab": report.lab, "results": booking.results or [],
            "report": f"/api/v1/lab-bookings/{booking.id}/report"}

