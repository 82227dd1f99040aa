"""The record as a FHIR R4 bundle: a patient's full journey (profile with ABHA, a consultation
with its intake, a signed prescription, a lab report, an uploaded document) exports as a bundle
whose every resource validates, and the key values survive the round trip. A physician exports
only the record of a patient they treat.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import text

from dhanvantri.http.principal import Role
from dhanvantri.platform import consultations
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.record import codes
from dhanvantri.platform.web.consultation_routes import CIPHER

from .commerce_setup import call, lab, pay_by_sandbox, tiny_pdf
from .helpers import DRAFT, SAFE, Person, login_patient, make_staff

# The journey is long: on SQLite only (test_record_documents covers sealing on both databases).
SQLITE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

ABHA = "91-2345-6789-0123"
INTAKE = {"intake": {"complaint": "fever and body ache", "symptoms": [
    {"key": "fever", "name": "Fever", "present": True},
    {"key": "cough", "name": "Cough", "present": False}], "duration": "three days"},
    "red_flags": [], "draft": None, "physician_notes": [], "escalations": []}
RESULTS = [{"analyte": "haemoglobin", "value": 10.2},
           {"analyte": "total leucocyte count", "value": 7.1},
           {"analyte": "platelet count", "value": 480}]


@dataclass
class Journey:
    """A patient's record with one of everything, and who made it."""

    patient: Person
    doctor: Person
    consultation_id: uuid.UUID
    prescription_id: uuid.UUID
    draft_id: uuid.UUID  # the review record of the consultation: never signed
    booking_id: str
    document_id: str


async def journey(client: TestClient, services: Services, outbox: OutboxNotifier,
                  clock: ManualClock) -> Journey:
    """Profile, consultation, signed prescription, lab report, document: a minute apart."""
    patient = await login_patient(client, outbox)
    await call(client, "PATCH", "/me/patient-profile", patient, json={
        "full_name": "Meera Iyer", "abha_number": ABHA, "sex": "female",
        "date_of_birth": "1984-03-09", "allergies": ["Penicillin"],
        "conditions": ["Type 2 diabetes"], "medicines": ["Glycomet 500"]})
    clock.advance(minutes=1)
    cipher = client.app[CIPHER]
    cid = record_id(uuid.uuid4().hex)
    assert await consultations.open_record(services.uow(), cid, patient.user_id, "en")
    await consultations.update_notes(services.uow(), cipher, cid, INTAKE)
    draft_id = await consultations.close_record(services.uow, cipher, services.safety, cid,
                                                "hangup")
    assert draft_id is not None
    clock.advance(minutes=1)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await create_from_draft(services.uow(), cid, patient.user_id, DRAFT, SAFE, False)
    await call(client, "POST", f"/prescriptions/{rx_id}/approve", doctor)
    start = await call(client, "POST", f"/prescriptions/{rx_id}/sign", doctor, 202)
    await call(client, "POST", f"/prescriptions/{rx_id}/sign/complete", doctor,
               json={"session_id": start["session_id"], "otp": outbox.last_code(doctor.phone)})
    clock.advance(minutes=1)
    admin = await make_staff(client, services, Role.ADMIN)
    owner, _lab, slot_id = await lab(client, services, admin)
    booking = await call(client, "POST", "/lab-bookings", patient, 201, json={
        "slot_id": slot_id, "tests": ["complete-blood-count"], "address": "12 MG Road"})
    started = await call(client, "POST", f"/lab-bookings/{booking['id']}/pay", patient, 201,
                         headers={"Idempotency-Key": f"test-{uuid.uuid4().hex}"},
                         json={"method": "gateway"})
    await pay_by_sandbox(client, patient, started)
    await call(client, "POST", f"/lab-bookings/{booking['id']}/collected", owner)
    clock.advance(minutes=1)
    await call(client, "POST", f"/lab-bookings/{booking['id']}/report", owner, json={
        "pdf_base64": base64.b64encode(tiny_pdf()).decode(), "results": RESULTS})
    clock.advance(minutes=1)
    document = await call(client, "POST", "/me/record/documents", patient, 201, json={
        "kind": "discharge_summary", "title": "Discharge summary", "dated": "2026-10-02",
        "content_base64": base64.b64encode(tiny_pdf()).decode()})
    return Journey(patient, doctor, cid, rx_id, draft_id, booking["id"], document["id"])


async def fhir(client: TestClient, person: Person, path: str = "/me/record/fhir",
               expect: int = 200) -> Any:
    response = await client.get("/api/v1" + path, headers={
        **person.headers, "Accept": "application/fhir+json"})  # as a FHIR client asks
    assert response.status == expect, await response.text()
    if expect == 200:
        assert response.content_type == "application/fhir+json"
    return await response.json(content_type=None)


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codings(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


def references(value: Any) -> list[str]:
    """Every ``reference`` anywhere inside ``value``."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


@SQLITE
async def test_a_full_journey_exports_as_a_valid_bundle_that_keeps_its_values(
        client: TestClient, services: Services, outbox: OutboxNotifier,
        clock: ManualClock) -> None:
    made = await journey(client, services, outbox, clock)
    bundle = await fhir(client, made.patient)

    # Every resource validates on its own, and the bundle as a whole.
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    assert bundle["type"] == "collection"
    # Every reference resolves inside the bundle.
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    assert set(references(bundle["entry"])) <= full_urls

    [patient] = by_type(bundle, "Patient")
    assert patient["identifier"] == [{"type": {"text": "ABHA number"},
                                      "system": "https://healthid.ndhm.gov.in", "value": ABHA}]
    assert (patient["gender"], patient["birthDate"]) == ("female", "1984-03-09")
    assert patient["name"] == [{"text": "Meera Iyer"}]

    [allergy] = by_type(bundle, "AllergyIntolerance")
    assert allergy["code"]["text"] == "Penicillin" and allergy["category"] == ["medication"]
    [problem] = [c for c in by_type(bundle, "Condition")
                 if c["category"][0]["coding"][0]["code"] == "problem-list-item"]
    assert codings(problem["code"]) == {("http://snomed.info/sct", "44054006")}
    [taking] = by_type(bundle, "MedicationStatement")  # a brand resolves to its generic
    assert taking["medicationCodeableConcept"]["text"] == "Glycomet 500"
    assert codings(taking["medicationCodeableConcept"]) == {("http://www.whocc.no/atc",
                                                             "A10BA02")}

    [encounter] = by_type(bundle, "Encounter")
    assert encounter["id"] == str(made.consultation_id)
    assert (encounter["status"], encounter["class"]["code"]) == ("finished", "VR")
    assert encounter["reasonCode"] == [{"text": "fever and body ache"}]

    # The signed prescription, line by line, with its ATC codes; the unsigned draft is absent.
    requests = {r["medicationCodeableConcept"]["text"]: r
                for r in by_type(bundle, "MedicationRequest")}
    assert set(requests) == {"Paracetamol", "Cetirizine"}
    paracetamol = requests["Paracetamol"]
    assert codings(paracetamol["medicationCodeableConcept"]) == {("http://www.whocc.no/atc",
                                                                  "N02BE01")}
    assert paracetamol["dosageInstruction"][0]["text"] == "500 mg, TDS, for 5 days"
    assert paracetamol["requester"] == {"reference": f"urn:uuid:{made.doctor.user_id}"}
    assert paracetamol["encounter"] == {"reference": f"urn:uuid:{made.consultation_id}"}
    assert paracetamol["groupIdentifier"]["value"] == f"urn:uuid:{made.prescription_id}"
    assert str(made.draft_id) not in str(bundle)
    [doctor] = by_type(bundle, "Practitioner")
    assert doctor["identifier"][0]["value"] == "KMC-123456"
    [provenance] = by_type(bundle, "Provenance")
    signed = {f"urn:uuid:{r['id']}" for r in requests.values()}
    assert signed <= {t["reference"] for t in provenance["target"]}
    assert provenance["signature"][0]["who"] == {"reference": f"urn:uuid:{made.doctor.user_id}"}
    assert base64.b64decode(provenance["signature"][0]["data"])

    # The lab values as the lab reported them, with unit, range and flag.
    shown = await call(client, "GET", f"/lab-bookings/{made.booking_id}", made.patient)
    [report] = by_type(bundle, "DiagnosticReport")
    assert report["id"] == made.booking_id and report["code"]["text"] == "Complete blood count"
    observations = {o["code"]["text"]: o for o in by_type(bundle, "Observation")}
    assert [r["reference"] for r in report["result"]] == [
        f"urn:uuid:{observations[r['analyte']]['id']}" for r in shown["results"]]
    haemoglobin = observations["haemoglobin"]
    assert codings(haemoglobin["code"]) == {("http://loinc.org", "718-7")}
    expected = next(r for r in shown["results"] if r["analyte"] == "haemoglobin")
    assert haemoglobin["valueQuantity"] == {"value": 10.2, "unit": "g/dL",
                                            "system": "http://unitsofmeasure.org",
                                            "code": "g/dL"}
    # A woman's range has a lower limit only: an open end stays open.
    assert (expected["low"], expected["high"]) == (12.0, None)
    assert haemoglobin["referenceRange"] == [{
        "low": {"value": 12.0, "unit": "g/dL", "system": "http://unitsofmeasure.org",
                "code": "g/dL"}, "text": "adult non-pregnant women"}]
    assert haemoglobin["interpretation"][0]["coding"][0]["code"] == "L"
    platelets = observations["platelet count"]
    expected = next(r for r in shown["results"] if r["analyte"] == "platelet count")
    [reference] = platelets["referenceRange"]
    assert (Decimal(str(platelets["valueQuantity"]["value"])), platelets["valueQuantity"]["code"],
            Decimal(str(reference["low"]["value"])), Decimal(str(reference["high"]["value"]))
            ) == (Decimal(str(expected["value"])), "10*3/uL", Decimal(str(expected["low"])),
                  Decimal(str(expected["high"])))
    assert (expected["flag"], platelets["interpretation"][0]["coding"][0]["code"]) == (
        "high", "H")

    [document] = by_type(bundle, "DocumentReference")
    attachment = document["content"][0]["attachment"]
    assert document["id"] == made.document_id
    assert (attachment["contentType"], attachment["creation"]) == ("application/pdf",
                                                                   "2026-10-02")
    assert attachment["url"].endswith(f"/api/v1/me/record/documents/{made.document_id}")


@SQLITE
async def test_a_physician_exports_only_a_patient_they_treat(
        client: TestClient, services: Services, outbox: OutboxNotifier,
        clock: ManualClock) -> None:
    made = await journey(client, services, outbox, clock)
    path = f"/patients/{made.patient.user_id}/record/fhir"
    bundle = await fhir(client, made.doctor, path)
    assert by_type(bundle, "Patient")[0]["id"] == str(made.patient.user_id)

    stranger = await make_staff(client, services, Role.PHYSICIAN)
    denied = await fhir(client, stranger, path, 403)
    assert denied["error"]["code"] == "NOT_TREATING"
    for role in (Role.ADMIN, Role.PHARMACY):
        await fhir(client, await make_staff(client, services, role), path, 403)
    other = await login_patient(client, outbox, phone="9988776655")
    await fhir(client, other, path, 403)  # patients export their own, at /me/record/fhir
    await fhir(client, made.doctor, f"/patients/{uuid.uuid4()}/record/fhir", 403)
    # The other patient's own export holds nothing of the first.
    own = await fhir(client, other)
    assert [e["resource"]["resourceType"] for e in own["entry"]] == ["Patient"]
    assert str(made.patient.user_id) not in str(own)

    exports = [e for e in await services_audit(services) if e[0] == "record_exported"]
    assert [(actor, entity) for _, actor, entity in exports] == [
        (str(made.doctor.user_id), str(made.patient.user_id)),
        (str(other.user_id), str(other.user_id))]


async def services_audit(services: Services) -> list[tuple[str, str, str]]:
    async with services.engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT action, actor_id, entity_id FROM audit_events "
            "WHERE entity_type = 'patient_record' ORDER BY seq"))).all()
    return [(a, str(uuid.UUID(str(actor))), entity) for a, actor, entity in rows]


def test_codes_come_from_standard_systems_only_where_known() -> None:
    paracetamol = codes.medicine("Crocin 650")  # a brand and strength: its generic's code
    assert paracetamol is not None and (paracetamol.system, paracetamol.code) == (
        codes.ATC, "N02BE01")
    assert codes.medicine("Unobtainium 5 mg") is None
    fasting = codes.analyte("glucose", "fasting-plasma-glucose")
    random = codes.analyte("Glucose")
    assert (fasting and fasting.code, random and random.code) == ("1558-6", "2345-7")
    assert codes.analyte("NS1 antigen") is None  # qualitative: no code guessed
    assert codes.analyte("eGFR") is None  # the equation is not known
    hypertension = codes.condition("  High blood pressure ")
    assert hypertension is not None and hypertension.code == "38341003"
    assert codes.condition("viral fever") is None
    assert (codes.ucum("10^3/uL"), codes.ucum("mIU/L"), codes.ucum("qualitative")) == (
        "10*3/uL", "m[IU]/L", None)
