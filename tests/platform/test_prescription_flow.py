"""A prescription walks from AI draft to released through the API, with real tokens and roles."""

from __future__ import annotations

import base64
import uuid

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.consent import CONSENT_SHA256
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft

from . import commerce_setup
from .helpers import DRAFT, SAFE, Person, login_patient, make_staff, signature_png

API = "/api/v1"


async def _draft(services: Services, patient: Person, urgent: bool = False,
                 draft: dict | None = None, safety: dict | None = None) -> uuid.UUID:
    # The clinical module calls this use case in-process when a consultation ends.
    return await create_from_draft(services.uow(), uuid.uuid4(), patient.user_id,
                                   draft or DRAFT, safety or SAFE, urgent)


async def _signed(client: TestClient, services: Services, outbox: OutboxNotifier,
                  patient: Person, doctor: Person) -> uuid.UUID:
    rx_id = await _draft(services, patient)
    assert (await client.post(f"{API}/prescriptions/{rx_id}/approve",
                              headers=doctor.headers)).status == 200
    start = await client.post(f"{API}/prescriptions/{rx_id}/sign", headers=doctor.headers)
    assert start.status == 202, await start.text()
    session = (await start.json())["session_id"]
    done = await client.post(f"{API}/prescriptions/{rx_id}/sign/complete", headers=doctor.headers,
                             json={"session_id": session, "otp": outbox.last_code(doctor.phone)})
    assert done.status == 200, await done.text()
    return rx_id


async def test_draft_to_released(client: TestClient, services: Services,
                                 outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    admin = await make_staff(client, services, Role.ADMIN)
    routine = await _draft(services, patient)
    rx_id = await _draft(services, patient, urgent=True)

    # Queue: urgent first.
    queue = await (await client.get(f"{API}/prescriptions/queue", headers=doctor.headers)).json()
    assert [item["id"] for item in queue["items"]] == [str(rx_id), str(routine)]

    # A patient sees status only while it is a draft; the physician sees transcript and reasoning.
    mine = await (await client.get(f"{API}/prescriptions/{rx_id}", headers=patient.headers)).json()
    assert mine["status"] == "pending_review" and "content" not in mine
    view = await (await client.get(f"{API}/prescriptions/{rx_id}", headers=doctor.headers)).json()
    assert view["transcript"][1]["text"].startswith("Fever")
    assert view["ai_reasoning"] and view["safety"]["blocked"] is False

    # Edit re-runs the safety gate: codeine is never prescribed by teleconsultation.
    edited = {**view["content"], "medications": [
        *view["content"]["medications"],
        {"name": "Codeine syrup", "dose": "5 ml", "frequency": "TDS", "duration": "3 days"}]}
    response = await client.put(f"{API}/prescriptions/{rx_id}", json=edited,
                                headers=doctor.headers)
    assert response.status == 200
    assert (await response.json())["safety"]["blocked"] is True
    response = await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=doctor.headers)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "SAFETY_BLOCKED"
    response = await client.put(f"{API}/prescriptions/{rx_id}", json=view["content"],
                                headers=doctor.headers)
    assert (await response.json())["safety"]["blocked"] is False
    assert (await response.json())["version"] == 3

    response = await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=doctor.headers)
    assert response.status == 200 and (await response.json())["status"] == "approved"

    # E-sign: OTP goes to the physician's phone, never into the response.
    response = await client.post(f"{API}/prescriptions/{rx_id}/sign", headers=doctor.headers)
    assert response.status == 202
    start = await response.json()
    code = outbox.last_code(doctor.phone)
    assert code not in await response.text()
    response = await client.post(f"{API}/prescriptions/{rx_id}/sign/complete",
                                 headers=doctor.headers,
                                 json={"session_id": start["session_id"], "otp": code})
    assert response.status == 200, await response.text()
    signed = await response.json()
    assert signed["status"] == "signed"
    assert signed["physician"]["registration_number"] == "KMC-123456"

    verify = await (await client.get(f"{API}/prescriptions/{rx_id}/verify")).json()
    assert verify["valid"] is True, verify
    assert verify["physician"]["council"] == "Karnataka Medical Council"
    assert "patient_id" not in verify

    # Signed, not yet acknowledged: the patient sees who signed it, not what it says.
    mine = await (await client.get(f"{API}/prescriptions/{rx_id}", headers=patient.headers)).json()
    assert mine["status"] == "signed" and "content" not in mine
    assert mine["physician"]["registration_number"] == "KMC-123456"
    listed = await (await client.get(f"{API}/prescriptions", headers=patient.headers)).json()
    assert all("content" not in item for item in listed["items"])
    assert "Paracetamol" not in str(listed)
    pdf = await client.get(f"{API}/prescriptions/{rx_id}/pdf", headers=patient.headers)
    assert pdf.status == 409 and (await pdf.json())["error"]["code"] == "INVALID_STATE"

    # Patient acknowledgement, then release.
    consent = await (await client.get(f"{API}/prescriptions/consent")).json()
    assert consent["sha256"] == CONSENT_SHA256
    response = await client.post(
        f"{API}/prescriptions/{rx_id}/acknowledge", headers=patient.headers,
        json={"consent": True, "consent_sha256": consent["sha256"],
              "signature_png": signature_png(), "device_info": "test-browser"})
    assert response.status == 200, await response.text()
    acked = await response.json()
    assert acked["status"] == "acknowledged"
    assert len(acked["acknowledgement"]["record_sha256"]) == 64
    assert acked["content"]["medications"][0]["name"] == "Paracetamol"
    pdf = await client.get(f"{API}/prescriptions/{rx_id}/pdf", headers=patient.headers)
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF")

    pharmacy, shop = await commerce_setup.pharmacy(client, services, admin, {"DOLO-650": 1})
    response = await client.get(f"{API}/prescriptions/{rx_id}", headers=pharmacy.headers)
    assert response.status == 404  # pharmacies see released prescriptions only

    response = await client.post(f"{API}/prescriptions/{rx_id}/release", headers=patient.headers)
    assert response.status == 200 and (await response.json())["status"] == "released"
    response = await client.get(f"{API}/prescriptions/{rx_id}", headers=pharmacy.headers)
    assert response.status == 404  # ... and only those the patient's orders there name
    dolo = next(m for m in (await (await client.get(f"{API}/medicines", params={
        "q": "dolo"})).json())["items"] if m["sku"] == "DOLO-650")
    response = await client.post(f"{API}/orders", headers=patient.headers, json={
        "pharmacy_id": shop, "pin_code": commerce_setup.PIN, "address": "12 MG Road",
        "prescription_id": str(rx_id), "items": [{"medicine_id": dolo["id"], "quantity": 1}]})
    assert response.status == 201, await response.text()
    response = await client.get(f"{API}/prescriptions/{rx_id}", headers=pharmacy.headers)
    assert response.status == 200
    assert (await response.json())["content"]["medications"][0]["name"] == "Paracetamol"

    # Every change is audited with its actor, and the chain verifies.
    events = await (await client.get(f"{API}/audit/events",
                                     params={"entity_type": "prescription",
                                             "entity_id": str(rx_id)},
                                     headers=admin.headers)).json()
    items = [e for e in events["items"] if e["action"] != "prescription_viewed"]
    viewers = {e["actor_role"] for e in events["items"] if e["action"] == "prescription_viewed"}
    assert viewers == {"patient", "physician", "pharmacy"}
    trail = [(e["action"], e["actor_role"]) for e in items]
    assert trail == [
        ("prescription_drafted", "system"), ("prescription_edited", "physician"),
        ("prescription_edited", "physician"), ("prescription_approved", "physician"),
        ("esign_started", "physician"), ("prescription_signed", "physician"),
        ("prescription_acknowledged", "patient"), ("prescription_downloaded", "patient"),
        ("prescription_released", "patient")]
    assert all(e["request_id"] for e in items[1:])
    assert items[3]["old_values"]["status"] == "pending_review"
    assert items[3]["new_values"]["status"] == "approved"
    # The edit is there, its content only as a keyed hash (no medicine names in the trail).
    assert items[1]["new_values"]["content"]["changed"] is True
    assert "Codeine" not in str(items[1])
    chain = await (await client.get(f"{API}/audit/verify", headers=admin.headers)).json()
    assert chain["intact"] is True and chain["checked"] > 10


async def test_wrong_role_is_forbidden(client: TestClient, services: Services,
                                       outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    other = await login_patient(client, outbox, phone="9988776655")
    rx_id = await _draft(services, patient)
    # A patient cannot approve; a pharmacy cannot see the queue; support cannot sign.
    response = await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=patient.headers)
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "FORBIDDEN"
    pharmacy = await make_staff(client, services, Role.PHARMACY)
    assert (await client.get(f"{API}/prescriptions/queue",
                             headers=pharmacy.headers)).status == 403
    support = await make_staff(client, services, Role.SUPPORT)
    assert (await client.post(f"{API}/prescriptions/{rx_id}/sign",
                              headers=support.headers)).status == 403
    # Another patient cannot even learn that it exists.
    assert (await client.get(f"{API}/prescriptions/{rx_id}",
                             headers=other.headers)).status == 404
    # Only the approving physician can sign.
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    second = await make_staff(client, services, Role.PHYSICIAN, phone="9123456781")
    await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=doctor.headers)
    response = await client.post(f"{API}/prescriptions/{rx_id}/sign", headers=second.headers)
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "NOT_SIGNER"


async def test_expired_esign_otp(client: TestClient, services: Services,
                                 outbox: OutboxNotifier, clock) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await _draft(services, patient)
    await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=doctor.headers)
    start = await (await client.post(f"{API}/prescriptions/{rx_id}/sign",
                                     headers=doctor.headers)).json()
    code = outbox.last_code(doctor.phone)
    clock.advance(minutes=6)  # OTP lives 5 minutes
    doctor.access = (await (await client.post(f"{API}/auth/refresh", json={
        "refresh_token": doctor.refresh})).json())["access_token"]
    response = await client.post(f"{API}/prescriptions/{rx_id}/sign/complete",
                                 headers=doctor.headers,
                                 json={"session_id": start["session_id"], "otp": code})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "OTP_EXPIRED"
    view = await (await client.get(f"{API}/prescriptions/{rx_id}", headers=doctor.headers)).json()
    assert view["status"] == "approved"


async def test_wrong_esign_otp_is_counted(client: TestClient, services: Services,
                                          outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await _draft(services, patient)
    await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=doctor.headers)
    start = await (await client.post(f"{API}/prescriptions/{rx_id}/sign",
                                     headers=doctor.headers)).json()
    code = outbox.last_code(doctor.phone)
    wrong = "000000" if code != "000000" else "111111"
    codes = []
    for _ in range(6):
        response = await client.post(f"{API}/prescriptions/{rx_id}/sign/complete",
                                     headers=doctor.headers,
                                     json={"session_id": start["session_id"], "otp": wrong})
        codes.append((await response.json())["error"]["code"])
    assert codes == ["OTP_INVALID"] * 5 + ["OTP_LOCKED"]
    # Even the right code no longer works once the attempts are spent.
    response = await client.post(f"{API}/prescriptions/{rx_id}/sign/complete",
                                 headers=doctor.headers,
                                 json={"session_id": start["session_id"], "otp": code})
    assert response.status == 429


async def test_signed_prescription_cannot_be_edited(client: TestClient, services: Services,
                                                    outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await _signed(client, services, outbox, patient, doctor)
    response = await client.put(f"{API}/prescriptions/{rx_id}", headers=doctor.headers,
                                json={"diagnosis": "Something else", "medications": []})
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "PRESCRIPTION_LOCKED" and error["details"]["status"] == "signed"
    for action in ("approve", "reject"):
        body = {"reason": "late change"} if action == "reject" else None
        response = await client.post(f"{API}/prescriptions/{rx_id}/{action}", json=body,
                                     headers=doctor.headers)
        assert response.status == 409, action
    # Releasing before the patient acknowledges is refused too.
    response = await client.post(f"{API}/prescriptions/{rx_id}/release", headers=patient.headers)
    assert (await response.json())["error"]["code"] == "INVALID_STATE"


async def test_tampered_signature_fails_verification(client: TestClient, services: Services,
                                                     outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await _signed(client, services, outbox, patient, doctor)
    assert (await (await client.get(f"{API}/prescriptions/{rx_id}/verify")).json())["valid"]

    async with services.engine.begin() as conn:
        row = (await conn.execute(text("SELECT signature FROM prescriptions WHERE id = :id"),
                                  {"id": _db_id(services, rx_id)})).one()
    signature = row[0] if isinstance(row[0], dict) else __import__("json").loads(row[0])
    raw = bytearray(base64.b64decode(signature["signature"]))
    raw[0] ^= 0x01
    tampered = {**signature, "signature": base64.b64encode(bytes(raw)).decode()}
    await _set(services, rx_id, "signature", tampered)
    result = await (await client.get(f"{API}/prescriptions/{rx_id}/verify")).json()
    assert result["valid"] is False and result["checks"]["signature"] is False

    # Restore the signature but change a dose: the content check fails.
    await _set(services, rx_id, "signature", signature)
    assert (await (await client.get(f"{API}/prescriptions/{rx_id}/verify")).json())["valid"]
    view = await (await client.get(f"{API}/prescriptions/{rx_id}", headers=doctor.headers)).json()
    content = view["content"]
    content["medications"][0]["dose"] = "650 mg"
    await _set(services, rx_id, "content", content)
    result = await (await client.get(f"{API}/prescriptions/{rx_id}/verify")).json()
    assert result["valid"] is False and result["checks"]["content"] is False


async def test_reject_with_reason(client: TestClient, services: Services,
                                  outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN)
    rx_id = await _draft(services, patient)
    response = await client.post(f"{API}/prescriptions/{rx_id}/reject", headers=doctor.headers,
                                 json={"reason": ""})
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "reason"
    response = await client.post(f"{API}/prescriptions/{rx_id}/reject", headers=doctor.headers,
                                 json={"reason": "Needs in-person examination"})
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "rejected"
    assert body["rejection_reason"] == "Needs in-person examination"
    queue = await (await client.get(f"{API}/prescriptions/queue", headers=doctor.headers)).json()
    assert queue["items"] == []


def _db_id(services: Services, rx_id: uuid.UUID) -> object:
    # SQLite stores UUIDs as 32 hex characters; PostgreSQL has a native type.
    return rx_id.hex if services.engine.dialect.name == "sqlite" else rx_id


async def _set(services: Services, rx_id: uuid.UUID, column: str, value: dict) -> None:
    # Through the table, so a sealed column (content) is written sealed as the app would.
    from dhanvantri.platform.tables.prescriptions import prescriptions

    async with services.engine.begin() as conn:
        await conn.execute(prescriptions.update().where(prescriptions.c.id == rx_id)
                           .values({column: value}))


async def test_verification_qr_for_those_who_may_see_the_prescription(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    other = await login_patient(client, outbox, phone="9988776655")
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    draft = await _draft(services, patient)
    # A draft has nothing to verify yet.
    assert (await client.get(f"{API}/prescriptions/{draft}/qr.svg",
                             headers=patient.headers)).status == 404
    rx_id = await _signed(client, services, outbox, patient, doctor)
    response = await client.get(f"{API}/prescriptions/{rx_id}/qr.svg", headers=patient.headers)
    assert response.status == 200 and response.content_type == "image/svg+xml"
    svg = await response.text()
    assert svg.startswith("<svg") and "<path" in svg and "Verification code" in svg
    # It encodes the verify link only: no names, no medicines.
    assert "Paracetamol" not in svg and "Viral" not in svg
    assert (await client.get(f"{API}/prescriptions/{rx_id}/qr.svg",
                             headers=other.headers)).status == 404
    assert (await client.get(f"{API}/prescriptions/{rx_id}/qr.svg")).status == 401
