"""The reviewing physician states how the consultation was held; the gate's Telemedicine
Practice Guidelines lists follow it, and the signed prescription records it."""

from __future__ import annotations

import re
import uuid
import zlib

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.consent import CONSENT_SHA256
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft

from .helpers import SAFE, Person, login_patient, make_staff, signature_png

API = "/api/v1"
# A voice-assistant consultation (its record has an end reason) that drafted an antibiotic,
# a TPG 2020 List A medicine: by default a first audio consultation.
VOICE_DRAFT = {
    "diagnosis": "Acute otitis media",
    "medications": [{"name": "Amoxicillin", "dose": "500 mg", "frequency": "TDS",
                     "duration": "5 days"}],
    "consultation": {"end_reason": "completed"},
}


def _teleconsultation(body: dict) -> list[dict]:
    return [i for i in body["safety"]["issues"] if i["code"] == "TELECONSULTATION"]


async def _put(client: TestClient, doctor: Person, rx_id: uuid.UUID, content: dict,
               consultation: dict | None = None) -> dict:
    body = {**content, **({"consultation": consultation} if consultation else {})}
    response = await client.put(f"{API}/prescriptions/{rx_id}", json=body,
                                headers=doctor.headers)
    assert response.status == 200, await response.text()
    return await response.json()


def _pdf_text(data: bytes) -> str:
    """The text drawn on a PDF's pages (fpdf2 deflates each page's content stream)."""
    # fpdf2 ends lines with "\n"; a stream's own bytes may end in "\r", so the newline before
    # "endstream" is left to the decompressor as unused data.
    streams = re.findall(rb"stream\n(.*?)endstream", data, re.DOTALL)
    text = []
    for raw in streams:
        try:
            text.append(zlib.decompressobj().decompress(raw).decode("latin-1"))
        except zlib.error:
            continue  # an image
    return "".join(re.findall(r"\((.*?)\)\s*Tj", "".join(text)))


async def test_list_a_is_blocked_for_first_audio_and_signs_for_first_video_or_follow_up(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    admin = await make_staff(client, services, Role.ADMIN)
    rx_id = await create_from_draft(services.uow(), uuid.uuid4(), patient.user_id,
                                    VOICE_DRAFT, SAFE, False)
    view = await (await client.get(f"{API}/prescriptions/{rx_id}",
                                   headers=doctor.headers)).json()
    assert view["consultation"] == {"first": True, "mode": "audio", "stated": False}
    content = view["content"]

    # As the record tells it (first, audio), and as stated so: amoxicillin waits for video.
    for stated in (None, {"first": True, "mode": "audio"}):
        body = await _put(client, doctor, rx_id, content, stated)
        assert body["safety"]["blocked"] is True
        assert "List A" in _teleconsultation(body)[0]["message"]
    refused = await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=doctor.headers)
    assert refused.status == 409

    # A follow-up may re-prescribe it, by any mode.
    body = await _put(client, doctor, rx_id, content, {"first": False, "mode": "audio"})
    assert body["safety"]["blocked"] is False and not _teleconsultation(body)
    # The physician saw the patient by video: it may be prescribed at the first consultation.
    body = await _put(client, doctor, rx_id, content, {"first": True, "mode": "video"})
    assert body["safety"]["blocked"] is False
    assert body["content"]["consultation"] == {"first": True, "mode": "video"}
    assert body["consultation"] == {"first": True, "mode": "video", "stated": True}
    # An edit that does not restate it keeps the statement.
    body = await _put(client, doctor, rx_id, {**content, "advice": ["Keep the ear dry"]})
    assert body["content"]["consultation"] == {"first": True, "mode": "video"}
    assert body["safety"]["blocked"] is False

    # A mode the guidelines do not know is refused, naming the field, and nothing changes.
    response = await client.put(f"{API}/prescriptions/{rx_id}", headers=doctor.headers,
                                json={**content, "consultation": {"first": True,
                                                                  "mode": "fax"}})
    assert 400 <= response.status < 500
    assert "consultation" in str((await response.json())["error"])
    again = await (await client.get(f"{API}/prescriptions/{rx_id}",
                                    headers=doctor.headers)).json()
    assert again["version"] == body["version"]

    # Approve, sign, and the patient reads the mode on the prescription and its PDF.
    assert (await client.post(f"{API}/prescriptions/{rx_id}/approve",
                              headers=doctor.headers)).status == 200
    start = await (await client.post(f"{API}/prescriptions/{rx_id}/sign",
                                      headers=doctor.headers)).json()
    done = await client.post(f"{API}/prescriptions/{rx_id}/sign/complete",
                             headers=doctor.headers,
                             json={"session_id": start["session_id"],
                                   "otp": outbox.last_code(doctor.phone)})
    assert done.status == 200, await done.text()
    acked = await client.post(
        f"{API}/prescriptions/{rx_id}/acknowledge", headers=patient.headers,
        json={"consent": True, "consent_sha256": CONSENT_SHA256,
              "signature_png": signature_png(), "device_info": "test-browser"})
    assert acked.status == 200, await acked.text()
    assert (await acked.json())["content"]["consultation"] == {"first": True, "mode": "video"}
    pdf = await client.get(f"{API}/prescriptions/{rx_id}/pdf", headers=patient.headers)
    assert "Teleconsultation: first consultation, video" in _pdf_text(await pdf.read())

    # Each statement is audited with the physician as actor.
    events = await (await client.get(f"{API}/audit/events",
                                     params={"entity_type": "prescription",
                                             "entity_id": str(rx_id)},
                                     headers=admin.headers)).json()
    stated = [(e["new_values"], e["actor_role"]) for e in events["items"]
              if e["action"] == "prescription_consultation_stated"]
    assert len(stated) == 3 and {role for _, role in stated} == {"physician"}
