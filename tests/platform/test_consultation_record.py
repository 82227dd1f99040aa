"""The stored consultation: sealed turns, the notes, one review record per consultation, the
abandoned ones recovered at start-up, and the API that shows them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from dhanvantri.http.principal import Role
from dhanvantri.knowledge.draft import build_draft
from dhanvantri.knowledge.intake import IntakeState
from dhanvantri.platform import consultations
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.domain.consultations import TurnRole, record_id
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.record_cipher import RecordCipher, SealError
from dhanvantri.platform.web.consultation_routes import CIPHER
from tests.support.knowledge import SymptomOnlyKB

from .helpers import SAFE, Person, login_patient, make_staff

API = "/api/v1"
SAID = [(TurnRole.ASSISTANT, "Namaste, what is troubling you today?"),
        (TurnRole.PATIENT, "This is Rajesh Malhotra, fever and body ache for three days"),
        (TurnRole.ASSISTANT, "Do you have any other symptoms along with this?"),
        (TurnRole.PATIENT, "A dry cough, and I am allergic to penicillin")]
TOKENS = "This is <PERSON_1>, fever and body ache for three days"
NOTES = {"intake": {"complaint": "fever and body ache", "allergies": ["penicillin"],
                    "missing": ["age"]},
         "red_flags": [], "draft": None, "physician_notes": [], "escalations": []}


def cipher(client: TestClient) -> RecordCipher:
    return client.app[CIPHER]


async def _record(client: TestClient, services: Services, patient: Person,
                  said: list[tuple[TurnRole, str]] = SAID) -> uuid.UUID:
    """A consultation with ``said`` written turn by turn, as the recorder writes it."""
    live_id = uuid.uuid4().hex  # a live id is a token, not a UUID
    cid = record_id(live_id)
    assert await consultations.open_record(services.uow(), cid, patient.user_id, "en")
    for role, words in said:
        tokens = TOKENS if "Rajesh" in words else words
        await consultations.add_turn(services.uow(), cipher(client), cid, role, words, tokens,
                                     datetime.now(UTC))
    await consultations.update_notes(services.uow(), cipher(client), cid, NOTES)
    return cid


async def _close(client: TestClient, services: Services, cid: uuid.UUID, **kw: object
                 ) -> uuid.UUID | None:
    return await consultations.close_record(services.uow, cipher(client), services.safety, cid,
                                            "call_ended", **kw)  # type: ignore[arg-type]


async def test_turns_come_back_in_order_as_said_to_the_patient_and_physicians(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    other = await login_patient(client, outbox, phone="9876500000")
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    pharmacy = await make_staff(client, services, Role.PHARMACY)
    cid = await _record(client, services, patient)

    mine = await client.get(f"{API}/consultations/{cid}", headers=patient.headers)
    assert mine.status == 200, await mine.text()
    body = await mine.json()
    assert [(t["role"], t["text"]) for t in body["turns"]] == [(r.value, s) for r, s in SAID]
    assert [t["seq"] for t in body["turns"]] == [0, 1, 2, 3]
    assert body["status"] == "active" and body["intake"]["allergies"] == ["penicillin"]
    assert "draft" not in body  # the AI's draft is not the patient's before a physician signs

    seen = await (await client.get(f"{API}/consultations/{cid}", headers=doctor.headers)).json()
    assert seen["turns"] == body["turns"] and "draft" in seen
    listed = await (await client.get(f"{API}/consultations", headers=patient.headers)).json()
    assert [item["id"] for item in listed["items"]] == [str(cid)]
    assert (await (await client.get(f"{API}/consultations", headers=other.headers)).json()
            )["items"] == []
    assert (await client.get(f"{API}/consultations/{cid}", headers=other.headers)).status == 404
    assert (await client.get(f"{API}/consultations", headers=pharmacy.headers)).status == 403
    assert (await client.get(f"{API}/consultations/{cid}")).status == 401
    bad = await client.get(f"{API}/consultations?limit=0", headers=doctor.headers)
    assert bad.status == 422 and (await bad.json())["error"]["details"][0]["field"] == "limit"


async def test_closing_queues_one_review_record_with_the_tokenised_transcript(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    cid = await _record(client, services, patient)
    # Two closers at once (a hang-up racing the start-up recovery): exactly one record.
    results = await asyncio.gather(_close(client, services, cid), _close(client, services, cid))
    assert sum(r is not None for r in results) == 1
    assert await _close(client, services, cid) is None  # a later close does nothing

    queue = await (await client.get(f"{API}/prescriptions/queue", headers=doctor.headers)).json()
    assert [item["consultation_id"] for item in queue["items"]] == [str(cid)]
    assert queue["items"][0]["diagnosis"] == consultations.NEEDS_ASSESSMENT
    assert queue["items"][0]["urgent"] is False
    rx = await (await client.get(f"{API}/prescriptions/{queue['items'][0]['id']}",
                                 headers=doctor.headers)).json()
    assert [t["text"] for t in rx["transcript"]][1] == TOKENS  # no name in the review copy
    assert rx["ai_draft"]["consultation"]["intake"]["allergies"] == ["penicillin"]
    assert "missing: age" in rx["ai_reasoning"]
    record = await (await client.get(f"{API}/consultations/{cid}", headers=doctor.headers)).json()
    assert record["status"] == "completed" and record["end_reason"] == "call_ended"
    assert record["prescription_id"] == queue["items"][0]["id"]
    # Turns after the close are refused: the record is final.
    assert await consultations.add_turn(services.uow(), cipher(client), cid, TurnRole.PATIENT,
                                        "late words", "late words", datetime.now(UTC)) is None
    audit = await (await client.get(f"{API}/audit/events?entity_type=consultation",
                                    headers=(await make_staff(client, services, Role.ADMIN)
                                             ).headers)).json()
    actions = [e["action"] for e in audit["items"]]
    assert actions.count("consultation_opened") == 1 and actions.count("consultation_closed") == 1


async def test_an_escalated_consultation_is_urgent(client: TestClient, services: Services,
                                                   outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    cid = await _record(client, services, patient)
    await consultations.update_notes(services.uow(), cipher(client), cid,
                                     {**NOTES, "red_flags": ["chest_pain"]},
                                     {"reason": "red_flag", "emergency": True})
    rx_id = await _close(client, services, cid)
    async with services.uow() as uow:
        rx = await uow.prescriptions.get(rx_id)
        record = await uow.consultations.get(cid)
    assert rx is not None and rx.urgent
    assert record is not None and record.escalated and record.emergency


async def test_a_knowledge_draft_becomes_a_prescription_with_its_medicines(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    state = IntakeState()
    state.update("fever and body ache for 3 days")
    for key, value in {"age_years": 35.0, "sex": "male", "no_allergies": True,
                       "no_medications": True, "no_conditions": True}.items():
        setattr(state, key, value)
    draft = build_draft(state, SymptomOnlyKB()).to_dict()
    assert draft["medicines"] and "medications" not in draft  # the clinical module's keys
    rx_id = await create_from_draft(services.uow(), uuid.uuid4(), patient.user_id, draft, SAFE,
                                    False)
    async with services.uow() as uow:
        rx = await uow.prescriptions.get(rx_id)
    assert rx is not None
    names = [m["name"] for m in rx.content["medications"]]
    assert names == [m["generic"] for m in draft["medicines"]]
    first = rx.content["medications"][0]
    assert first["dose"] == draft["medicines"][0]["dose"]
    assert first["duration"] == f"{draft['medicines'][0]['duration_days']} days"
    assert rx.content["diagnosis"] == draft["diagnosis"]
    assert rx.content["diagnosis_confidence"] == draft["confidence_label"]
    assert "Reported:" in rx.ai_reasoning  # the draft's reasoning lines


async def test_consultations_left_open_are_abandoned_and_queued_once(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    cid = await _record(client, services, patient)
    closed = await consultations.abandon_open(services.uow, cipher(client), services.safety)
    assert closed == [cid]
    assert await consultations.abandon_open(services.uow, cipher(client), services.safety) == []
    async with services.uow() as uow:
        record = await uow.consultations.get(cid)
        queued = await uow.prescriptions.queue()
    assert record is not None and record.status.value == "abandoned"
    assert record.end_reason == "process_ended"
    assert [rx.consultation_id for rx in queued] == [cid]
    assert len(queued[0].transcript) == len(SAID)  # no turn lost


def test_sealed_text_opens_only_in_its_own_place() -> None:
    cipher = RecordCipher(b"r" * 32, b"t" * 32)
    record = uuid.uuid4()
    sealed = cipher.seal("fever for three days", record, "text", 1)
    assert cipher.open(sealed, record, "text", 1) == "fever for three days"
    for place in [(record, "text", 2), (uuid.uuid4(), "text", 1), (record, "tokens", 1)]:
        with pytest.raises(SealError):
            cipher.open(sealed, *place)


async def test_the_database_holds_no_patient_words_in_plain_form(
        client: TestClient, services: Services, outbox: OutboxNotifier, settings: object) -> None:
    patient = await login_patient(client, outbox)
    cid = await _record(client, services, patient)
    await _close(client, services, cid)
    words = ["Rajesh", "Malhotra", "penicillin", "cough", "body ache"]
    async with services.uow() as uow:
        rows = [str(row) for table in ("consultations", "consultation_turns", "audit_events")
                for row in (await uow.session.execute(text(f"SELECT * FROM {table}"))).all()]
    assert rows and not [w for w in words if any(w.lower() in r.lower() for r in rows)]
    url = str(getattr(settings, "database_url", ""))
    if url.startswith("sqlite"):
        await services.engine.dispose()  # everything written through to the file
        path = Path(url.split("///", 1)[1])
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).lower()
        # The name said in the call is nowhere in the file (the review copy is tokenised);
        # clinical words appear only in the prescription's clinical content.
        assert b"rajesh" not in raw and b"malhotra" not in raw
