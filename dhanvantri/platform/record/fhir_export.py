"""The patient's record as a FHIR R4 ``Bundle`` (type ``collection``), for hospitals and ABDM.

Patient (ABHA number as identifier), Encounter per consultation, Condition (problem list and
signed diagnoses), AllergyIntolerance, MedicationStatement (the profile's medicines),
MedicationRequest per line of a signed prescription, Practitioner and Provenance for each
signature, Observation and DiagnosticReport per lab report, DocumentReference per upload.

Every resource is built with ``fhir.resources`` (its ``R4B`` models: FHIR 4.3, whose resources
used here are those of R4 4.0.1) and so validated for structure, types and cardinality before
it leaves; a record that does not validate is a server error, never a malformed export.

A patient exports their own record; a physician, the record of a patient they treat (they
reviewed or signed one of the patient's prescriptions). Either export is audited.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from ...http.errors import Forbidden, NotFound
from ...http.principal import Role
from ..domain.accounts import PatientProfile, User
from ..domain.audit import Actor
from ..domain.consultations import Consultation
from ..domain.prescriptions import VISIBLE_TO_PATIENT, Prescription
from ..record_cipher import RecordCipher
from ..uow import UnitOfWork
from . import fhir_resources as fr
from .document_store import DocumentStore
from .domain import RecordDocument
from .sources import LabReport, intake_of, lab_reports, signer_of

log = logging.getLogger(__name__)
ENTITY = "patient_record"
MEDIA_TYPE = "application/fhir+json"
EXPORT_LIMIT = 500  # of each kind: a record longer than this exports its newest


@dataclass
class RecordFacts:
    """What the bundle is built from, read in one transaction."""

    user: User
    profile: PatientProfile | None
    consultations: list[tuple[Consultation, str | None]]  # with the intake's complaint
    prescriptions: list[Prescription]
    lab_reports: list[LabReport]
    documents: list[RecordDocument]
    exported_at: datetime
    base_url: str


async def export(uow: UnitOfWork, cipher: RecordCipher, viewer: Actor, patient_id: uuid.UUID,
                 base_url: str) -> str:
    """The FHIR bundle of ``patient_id``'s record as JSON (the export is audited).

    Raises:
        NotFound: no such patient (or, for a patient, someone else).
        Forbidden: a physician who does not treat the patient, or another role.
    """
    started = time.perf_counter()
    facts = await gather(uow, cipher, viewer, patient_id, base_url)
    # Validating a few hundred resources is CPU work: off the event loop.
    text = await asyncio.to_thread(bundle_json, facts)
    log.info("record exported as FHIR patient=%s bytes=%d ms=%.0f request_id=%s", patient_id,
             len(text), (time.perf_counter() - started) * 1000, viewer.request_id)
    return text


async def gather(uow: UnitOfWork, cipher: RecordCipher, viewer: Actor, patient_id: uuid.UUID,
                 base_url: str) -> RecordFacts:
    """Check the viewer may export, and read the record."""
    async with uow:
        await _authorize(uow, viewer, patient_id)
        user = await uow.users.get(patient_id)
        if user is None or user.role != Role.PATIENT:
            raise NotFound("no such patient")
        consultations = await uow.consultations.list(patient_id=patient_id, limit=EXPORT_LIMIT)
        facts = RecordFacts(
            user=user, profile=await uow.users.patient(patient_id),
            consultations=[(c, str(intake_of(cipher, c).get("complaint") or "") or None)
                           for c in consultations],
            prescriptions=list(await uow.prescriptions.list(
                patient_id=patient_id, statuses=list(VISIBLE_TO_PATIENT), limit=EXPORT_LIMIT)),
            lab_reports=await lab_reports(uow, patient_id, EXPORT_LIMIT),
            documents=list(await DocumentStore(uow).of_patient(patient_id, EXPORT_LIMIT)),
            exported_at=uow.clock(), base_url=base_url.rstrip("/"))
        uow.record(viewer, "record_exported", ENTITY, patient_id,
                   new={"mode": "fhir", "user_id": patient_id})
        await uow.commit()
    return facts


async def _authorize(uow: UnitOfWork, viewer: Actor, patient_id: uuid.UUID) -> None:
    role = Role(viewer.role)
    if role == Role.PATIENT:
        if viewer.user_id != patient_id:
            raise NotFound("no such patient")
        return
    if role == Role.PHYSICIAN:
        treated = await uow.prescriptions.list(patient_id=patient_id, limit=EXPORT_LIMIT)
        if any(rx.physician_id == viewer.user_id for rx in treated):
            return
        raise Forbidden("only a physician who treats this patient may export their record",
                        code="NOT_TREATING")
    raise Forbidden(f"role {role.value} may not export a patient's record")


def resources(facts: RecordFacts) -> list[dict[str, Any]]:
    """Every resource of the record, as FHIR JSON (not yet validated)."""
    pid, profile = facts.user.id, facts.profile
    out: list[dict[str, Any]] = [fr.patient(facts.user, profile)]
    out += [fr.encounter(c, pid, complaint) for c, complaint in facts.consultations]
    if profile is not None:
        out += [fr.problem(pid, text) for text in profile.conditions]
        out += [fr.allergy(pid, text) for text in profile.allergies]
        out += [fr.medication_statement(pid, text) for text in profile.medicines]
    encounters = {c.id for c, _ in facts.consultations}
    practitioners: dict[str, dict[str, Any]] = {}
    for rx in facts.prescriptions:
        signer = signer_of(rx.signature)
        if signer.get("id"):
            practitioners.setdefault(str(signer["id"]), fr.practitioner(signer))
        found = fr.diagnosis(rx, encounters, signer)
        requests = fr.medication_requests(rx, encounters, signer,
                                          found["id"] if found else None)
        signed = [*([found] if found else []), *requests]
        out += signed
        if (origin := fr.provenance(rx, [r["id"] for r in signed], signer)) is not None:
            out.append(origin)
    out[1:1] = practitioners.values()  # after the patient: who the rest refers to
    for report in facts.lab_reports:
        observations = fr.lab_observations(report)
        out += observations
        out.append(fr.diagnostic_report(report, [o["id"] for o in observations],
                                        facts.base_url))
    out += [fr.document_reference(d, facts.base_url) for d in facts.documents]
    return out


def bundle_json(facts: RecordFacts) -> str:
    """The validated bundle as JSON.

    Raises:
        pydantic.ValidationError: a resource is not valid FHIR (a bug: nothing is sent).
    """
    entries = []
    for resource in resources(facts):
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": model})
    bundle = Bundle.model_validate({
        "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
        "timestamp": facts.exported_at.isoformat(),
        "meta": {"lastUpdated": facts.exported_at.isoformat()}, "entry": entries})
    return bundle.model_dump_json(exclude_none=True)

