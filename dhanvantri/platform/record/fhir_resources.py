"""The record's facts as FHIR R4 resources (plain dicts; :mod:`.fhir_export` validates them).

One function per resource type, each from the domain's own objects. References inside the
bundle are ``urn:uuid:`` ids; resources with no id of their own (a profile's allergy, one line
of a prescription) get a name-based UUID, so the same fact exports under the same id each time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain.accounts import PatientProfile, User
from ..domain.consultations import Consultation, ConsultationStatus
from ..domain.prescriptions import Prescription
from . import codes
from .domain import KIND_TEXT, RecordDocument
from .sources import LabReport

Resource = dict[str, Any]

ABHA_SYSTEM = "https://healthid.ndhm.gov.in"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
_GENDER = {"male": "male", "female": "female", "other": "other"}
_FLAG = {"low": ("L", "Low"), "high": ("H", "High"), "normal": ("N", "Normal")}
_NO_UNIT = frozenset({"qualitative", "dipstick", "ratio"})  # no quantity unit to state


def ref(resource_id: uuid.UUID | str) -> dict[str, str]:
    """A reference to a resource in the same bundle."""
    return {"reference": f"urn:uuid:{resource_id}"}


def derived_id(owner: uuid.UUID, name: str) -> uuid.UUID:
    """A stable id for a resource that has no record of its own (``owner`` and a name)."""
    return uuid.uuid5(owner, name)


def _concept(text: str, code: codes.Code | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if code is not None:
        concept["coding"] = [code.coding()]
    return concept


def _coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": _TERMINOLOGY + system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _instant(value: datetime) -> str:
    return value.isoformat()


def abha_display(digits: str) -> str:
    """An ABHA number as ABDM writes it: ``12-3456-7890-1234``."""
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}"


# ------------------------------------------------------------------ who
def patient(user: User, profile: PatientProfile | None) -> Resource:
    """The patient, with the ABHA number as an identifier where the profile has one."""
    body: Resource = {"resourceType": "Patient", "id": str(user.id), "active": user.is_active}
    if profile is not None and profile.abha_number:
        body["identifier"] = [{"type": {"text": "ABHA number"}, "system": ABHA_SYSTEM,
                               "value": abha_display(profile.abha_number)}]
    if user.full_name:
        body["name"] = [{"text": user.full_name}]
    if user.phone:
        body["telecom"] = [{"system": "phone", "value": user.phone, "use": "mobile"}]
    if profile is not None:
        body["gender"] = _GENDER.get(profile.sex or "", "unknown")
        if profile.date_of_birth:
            body["birthDate"] = profile.date_of_birth
    return body


def practitioner(signer: dict[str, Any]) -> Resource:
    """The physician who signed, as the signature recorded them (name and registration)."""
    body: Resource = {"resourceType": "Practitioner", "id": str(signer["id"]),
                      "name": [{"text": str(signer.get("full_name") or "")}]}
    if signer.get("registration_number"):
        body["identifier"] = [{
            "type": _coded("v2-0203", "MD", "Medical License number"),
            "value": str(signer["registration_number"]),
            "assigner": {"display": str(signer.get("council") or "")}}]
    return body


# ------------------------------------------------------------------ what happened
def encounter(record: Consultation, patient_id: uuid.UUID, complaint: str | None) -> Resource:
    """A consultation: a virtual encounter, its period and the complaint it was about."""
    period: dict[str, str] = {}
    if record.started_at is not None:
        period["start"] = _instant(record.started_at)
    if record.ended_at is not None:
        period["end"] = _instant(record.ended_at)
    body: Resource = {
        "resourceType": "Encounter", "id": str(record.id),
        "status": "in-progress" if record.status == ConsultationStatus.ACTIVE else "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR",
                  "display": "virtual"},
        "subject": ref(patient_id), "period": period}
    if complaint:
        body["reasonCode"] = [{"text": complaint}]
    return body


def problem(patient_id: uuid.UUID, text: str) -> Resource:
    """A long-term condition from the profile (the problem list)."""
    return {"resourceType": "Condition",
            "id": str(derived_id(patient_id, f"condition:{text.lower()}")),
            "clinicalStatus": _coded("condition-clinical", "active", "Active"),
            "category": [_coded("condition-category", "problem-list-item", "Problem List Item")],
            "code": _concept(text, codes.condition(text)), "subject": ref(patient_id)}


def diagnosis(rx: Prescription, encounter_ids: set[uuid.UUID], signer: dict[str, Any]
              ) -> Resource | None:
    """The diagnosis a signed prescription states, for its consultation."""
    text = str(rx.content.get("diagnosis") or "").strip()
    if not text:
        return None
    body: Resource = {
        "resourceType": "Condition", "id": str(derived_id(rx.id, "diagnosis")),
        "category": [_coded("condition-category", "encounter-diagnosis", "Encounter Diagnosis")],
        "code": _concept(text, codes.condition(text)), "subject": ref(rx.patient_id)}
    if rx.consultation_id in encounter_ids:
        body["encounter"] = ref(rx.consultation_id)
    if rx.signed_at is not None:
        body["recordedDate"] = _instant(rx.signed_at)
    if signer.get("id"):
        body["recorder"] = ref(signer["id"])
    return body


def allergy(patient_id: uuid.UUID, text: str) -> Resource:
    """An allergy from the profile; a medicine or drug class is coded (ATC) where known."""
    body: Resource = {
        "resourceType": "AllergyIntolerance",
        "id": str(derived_id(patient_id, f"allergy:{text.lower()}")),
        "clinicalStatus": _coded("allergyintolerance-clinical", "active", "Active"),
        "code": _concept(text, codes.medicine(text)), "patient": ref(patient_id)}
    if codes.is_medicine(text):
        body["category"] = ["medication"]
    return body


def medication_statement(patient_id: uuid.UUID, text: str) -> Resource:
    """A medicine the patient takes, from the profile."""
    return {"resourceType": "MedicationStatement",
            "id": str(derived_id(patient_id, f"medicine:{text.lower()}")),
            "status": "active", "medicationCodeableConcept": _concept(text, codes.medicine(text)),
            "subject": ref(patient_id)}


def medication_requests(rx: Prescription, encounter_ids: set[uuid.UUID],
                        signer: dict[str, Any], reason_id: str | None) -> list[Resource]:
    """Each medicine line of a signed prescription, grouped by the prescription's id."""
    out = []
    for index, line in enumerate(rx.content.get("medications") or []):
        if not isinstance(line, dict) or not line.get("name"):
            continue
        name = str(line["name"])
        body: Resource = {
            "resourceType": "MedicationRequest",
            "id": str(derived_id(rx.id, f"medication:{index}")),
            "status": "active", "intent": "order",
            "groupIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{rx.id}"},
            "medicationCodeableConcept": _concept(name, codes.medicine(name)),
            "subject": ref(rx.patient_id), "dosageInstruction": [_dosage(line)]}
        if rx.consultation_id in encounter_ids:
            body["encounter"] = ref(rx.consultation_id)
        if rx.signed_at is not None:
            body["authoredOn"] = _instant(rx.signed_at)
        if signer.get("id"):
            body["requester"] = ref(signer["id"])
        if reason_id:
            body["reasonReference"] = [ref(reason_id)]
        out.append(body)
    return out


def _dosage(line: dict[str, Any]) -> dict[str, Any]:
    words = [str(line[k]) for k in ("dose", "frequency") if line.get(k)]
    if line.get("duration"):
        words.append(f"for {line['duration']}")
    dosage: dict[str, Any] = {"text": ", ".join(words) or str(line["name"])}
    if line.get("instructions"):
        dosage["patientInstruction"] = str(line["instructions"])
    if line.get("route"):
        dosage["route"] = {"text": str(line["route"])}
    return dosage


def provenance(rx: Prescription, targets: list[str], signer: dict[str, Any]) -> Resource | None:
    """Who signed a prescription's resources, when, and the signature itself."""
    if not targets or rx.signed_at is None or not signer.get("id"):
        return None
    who = ref(signer["id"])
    signature: dict[str, Any] = {
        "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1",
                  "display": "Author's Signature"}],
        "when": _instant(rx.signed_at), "who": who}
    if (rx.signature or {}).get("signature"):
        signature["data"] = str(rx.signature["signature"])  # type: ignore[index]
    return {"resourceType": "Provenance", "id": str(derived_id(rx.id, "provenance")),
            "target": [ref(t) for t in targets], "recorded": _instant(rx.signed_at),
            "agent": [{"type": _coded("provenance-participant-type", "author", "Author"),
                       "who": who}],
            "signature": [signature]}


# ------------------------------------------------------------------ results and documents
def lab_observations(report: LabReport) -> list[Resource]:
    """Each value of a lab report, with its unit, reference range and flag."""
    booking = report.booking
    when = _instant(booking.updated_at) if booking.updated_at else None
    # One test booked: its analytes are told apart by it (fasting glucose from random).
    test = booking.tests[0] if len(booking.tests) == 1 else None
    out = []
    for index, result in enumerate(booking.results or []):
        analyte = str(result.get("analyte") or "")
        unit = str(result.get("unit") or "")
        body: Resource = {
            "resourceType": "Observation", "id": str(derived_id(booking.id, f"result:{index}")),
            "status": "final",
            "category": [_coded("observation-category", "laboratory", "Laboratory")],
            "code": _concept(analyte, codes.analyte(analyte, test)),
            "subject": ref(booking.patient_id),
            "valueQuantity": _quantity(result.get("value"), unit)}
        if when:
            body["effectiveDateTime"] = body["issued"] = when
        if result.get("flag") in _FLAG:
            code, display = _FLAG[result["flag"]]
            body["interpretation"] = [_coded("v3-ObservationInterpretation", code, display)]
        reference: dict[str, Any] = {name: _quantity(result[name], unit) for name in ("low", "high")
                     if result.get(name) is not None}
        if reference:
            if result.get("population"):
                reference["text"] = str(result["population"])
            body["referenceRange"] = [reference]
        out.append(body)
    return out


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    # Through str: a float's shortest form (10.2), not its binary expansion.
    quantity: dict[str, Any] = {"value": Decimal(str(value))}
    if unit and unit not in _NO_UNIT:
        quantity["unit"] = unit
        if (code := codes.ucum(unit)) is not None:
            quantity |= {"system": codes.UCUM, "code": code}
    return quantity


def diagnostic_report(report: LabReport, observation_ids: list[str], base_url: str
                      ) -> Resource:
    """A lab report: its tests, the lab, its values and the lab's PDF."""
    booking = report.booking
    body: Resource = {
        "resourceType": "DiagnosticReport", "id": str(booking.id), "status": "final",
        "category": [_coded("v2-0074", "LAB", "Laboratory")],
        "code": {"text": ", ".join(report.tests) or "Lab report"},
        "subject": ref(booking.patient_id), "performer": [{"display": report.lab}],
        "result": [ref(i) for i in observation_ids]}
    if booking.updated_at is not None:
        body["effectiveDateTime"] = body["issued"] = _instant(booking.updated_at)
    if booking.report_sha256:
        body["presentedForm"] = [{
            "contentType": "application/pdf", "title": "Lab report (PDF)",
            "url": f"{base_url}/api/v1/lab-bookings/{booking.id}/report"}]
    return body


def document_reference(document: RecordDocument, base_url: str) -> Resource:
    """A document the patient uploaded: what it is, when, and where to fetch it."""
    assert document.created_at is not None
    attachment: dict[str, Any] = {
        "contentType": document.media_type, "size": document.size, "title": document.title,
        "url": f"{base_url}/api/v1/me/record/documents/{document.id}"}
    if document.dated:
        attachment["creation"] = document.dated
    return {"resourceType": "DocumentReference", "id": str(document.id), "status": "current",
            "type": {"text": KIND_TEXT[document.kind]}, "subject": ref(document.patient_id),
            "date": _instant(document.created_at), "description": document.title,
            "content": [{"attachment": attachment}]}
