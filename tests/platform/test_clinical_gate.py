"""The knowledge library's safety gate, fed from stored prescription content, the profile and the
consultation (first or follow-up, audio or video, pregnancy, weight)."""

from __future__ import annotations

import uuid
from datetime import date

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.knowledge.medicines import load_medicines
from dhanvantri.platform import consultations
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clinical_gate import (
    KnowledgeSafetyGate,
    age_years,
    severe_kidney,
    stated_states,
)
from dhanvantri.platform.domain.accounts import PatientProfile
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.platform.drafts import consultation_context, normalize_content
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.safety import BasicSafetyGate, ConsultationContext
from dhanvantri.platform.web.consultation_routes import CIPHER

from .helpers import DRAFT, login_patient, make_staff

API = "/api/v1"


async def test_clean_draft_passes() -> None:
    gate = KnowledgeSafetyGate()
    patient = PatientProfile(date_of_birth="1990-01-01", sex="male")
    result = await gate.check(normalize_content(DRAFT), patient)
    assert result == {"blocked": False, "verdict": "ok", "issues": [], "checked_by": "knowledge"}


async def test_class_allergy_controlled_drug_and_unreadable_line() -> None:
    gate = KnowledgeSafetyGate()
    patient = PatientProfile(allergies=["penicillin"])  # no date of birth
    content = normalize_content({"medications": [
        {"name": "Amoxicillin", "dose": "500 mg", "frequency": "TDS", "duration": "5 days"},
        {"name": "Codeine", "dose": "30 mg", "frequency": "TDS", "duration": "3 days"},
        {"name": "Morphine", "dose": "a little", "frequency": "TDS"}]})
    result = await gate.check(content, patient)
    found = {(i["code"], i["medication"], i["severity"]) for i in result["issues"]}
    assert result["blocked"] is True
    assert ("ALLERGY", "Amoxicillin", "block") in found  # penicillin class
    assert ("CONTROLLED_SUBSTANCE", "Codeine", "block") in found
    assert ("UNCHECKED_LINE", "Morphine", "warn") in found
    assert ("NOT_PRESCRIBABLE_REMOTELY", "Morphine", "block") in found  # the floor still holds
    assert ("AGE_UNKNOWN", "", "warn") in found


def test_age_from_date_of_birth() -> None:
    assert age_years("2000-06-01", date(2026, 6, 1)) == (date(2026, 6, 1) -
                                                          date(2000, 6, 1)).days / 365.25
    assert age_years(None, date(2026, 1, 1)) is None
    assert age_years("not a date", date(2026, 1, 1)) is None


# ------------------------------------------------------------------ what the consultation adds
def _codes(result: dict, medication: str) -> set[tuple[str, str]]:
    return {(i["code"], i["severity"]) for i in result["issues"] if i["medication"] == medication}


def test_a_voice_consultation_is_first_and_audio_unless_its_record_says() -> None:
    voice = {"consultation": {"end_reason": "hangup",
                              "intake": {"pregnant": True, "weight_kg": 18}}}
    assert consultation_context(voice) == ConsultationContext(
        first=True, mode="audio", pregnant=True, weight_kg=18.0)
    stated = {"consultation": {"end_reason": "hangup", "first": False, "mode": "video",
                               "intake": {"pregnant": None, "weight_kg": True}}}
    assert consultation_context(stated) == ConsultationContext(first=False, mode="video")
    # A draft from elsewhere that says nothing: only the rules of every teleconsultation.
    assert consultation_context({"medications": []}) == ConsultationContext()
    assert consultation_context({"consultation": {"mode": "fax", "first": "yes"}}) == \
        ConsultationContext()


async def test_teleconsultation_lists_apply_only_when_the_consultation_is_known() -> None:
    gate = KnowledgeSafetyGate()
    patient = PatientProfile(date_of_birth="1990-01-01", sex="male")
    content = normalize_content({"medications": [
        {"name": "Novamox", "dose": "500 mg", "frequency": "TDS", "duration": "5 days"},
        {"name": "Crocin", "dose": "500 mg", "frequency": "TDS", "duration": "3 days"}]})
    first_audio = await gate.check(content, patient, ConsultationContext(first=True,
                                                                         mode="audio"))
    assert ("TELECONSULTATION", "block") in _codes(first_audio, "Novamox")  # List A
    assert _codes(first_audio, "Crocin") == set()  # List O: any teleconsultation
    assert first_audio["blocked"] is True
    for context in (ConsultationContext(first=True, mode="video"),
                    ConsultationContext(first=False, mode="audio"), None):
        result = await gate.check(content, patient, context)
        assert result["blocked"] is False, context


async def test_kidney_liver_breastfeeding_and_pregnancy_reach_the_gate() -> None:
    gate = KnowledgeSafetyGate()
    content = normalize_content({"medications": [
        {"name": "Brufen", "dose": "400 mg", "frequency": "TDS", "duration": "3 days"},
        {"name": "Atorva", "dose": "10 mg", "frequency": "OD", "duration": "30 days"},
        {"name": "Tiniba", "dose": "500 mg", "frequency": "BD", "duration": "5 days"}]})
    well = PatientProfile(date_of_birth="1990-01-01", sex="female")
    assert (await gate.check(content, well))["blocked"] is False
    ill = PatientProfile(date_of_birth="1990-01-01", sex="female",
                         conditions=["Chronic kidney disease stage 4", "cirrhosis",
                                     "breastfeeding a 3 month old"])
    result = await gate.check(content, ill)
    assert ("CONTRAINDICATION", "block") in _codes(result, "Brufen")  # kidney
    assert ("CONTRAINDICATION", "block") in _codes(result, "Atorva")  # liver, breastfeeding
    messages = " ".join(i["message"] for i in result["issues"])
    assert "kidney impairment" in messages and "liver impairment" in messages
    assert "breastfeeding (avoid) with tinidazole" in messages
    pregnant = await gate.check(content, well, ConsultationContext(pregnant=True))
    assert ("CONTRAINDICATION", "warn") in _codes(pregnant, "Brufen")
    assert ("CONTRAINDICATION", "block") in _codes(pregnant, "Atorva")
    # Kidney disease of unstated degree: the NSAID's caution is below an eGFR, so check it.
    unstaged = PatientProfile(date_of_birth="1990-01-01", sex="female",
                              conditions=["kidney disease"])
    assert ("CONTRAINDICATION", "warn") in _codes(await gate.check(content, unstaged), "Brufen")
    # A kidney stone or a fatty liver is not an impairment that changes doses.
    stones = PatientProfile(date_of_birth="1990-01-01", sex="female",
                            conditions=["kidney stone", "fatty liver"])
    assert (await gate.check(content, stones))["blocked"] is False


def test_stage_four_or_five_dialysis_and_failure_are_severe() -> None:
    assert [severe_kidney([c]) for c in (
        "Chronic kidney disease stage 4", "CKD 5", "on dialysis", "acute kidney failure",
        "CKD stage 3", "kidney disease", "kidney stone")] == [
        True, True, True, True, False, False, False]


def test_condition_words_name_the_states() -> None:
    assert stated_states(["kidney disease", "liver disease"]) == {
        "renal_impairment": True, "hepatic_impairment": True, "breastfeeding": False,
        "pregnant": False}
    assert stated_states(["on dialysis", "Lactating mother", "Pregnancy 20 weeks"]) == {
        "renal_impairment": True, "hepatic_impairment": False, "breastfeeding": True,
        "pregnant": True}


async def test_the_floor_blocks_every_controlled_medicine_of_the_table_by_any_name() -> None:
    gate = BasicSafetyGate()
    controlled = [med for med in load_medicines() if med.controlled]
    assert len(controlled) >= 20
    names = [name for med in controlled for name in (med.generic, *med.brands)]
    content = {"medications": [{"name": name, "dose": "1 tablet", "frequency": "OD",
                                "duration": "1 day"} for name in names]}
    result = await gate.check(content, None)
    blocked = {i["medication"] for i in result["issues"]
               if i["code"] == "NOT_PRESCRIBABLE_REMOTELY"}
    assert blocked == set(names)
    plain = await gate.check({"medications": [{"name": "Crocin 650", "dose": "1 tablet",
                                               "frequency": "TDS", "duration": "3 days"}]}, None)
    assert plain["blocked"] is False


# ------------------------------------------------------------------ the real flow
VOICE_NOTES = {
    "intake": {"complaint": "burning urine", "age_years": 30, "sex": "female",
               "pregnant": True, "conditions": ["kidney disease"], "allergies": [],
               "medications": [], "missing": []},
    "red_flags": [], "physician_notes": [], "escalations": [],
    "draft": {"diagnosis": "Cystitis", "medications": [
        {"name": "Nitrofurantoin", "dose": "100 mg", "frequency": "BD", "duration": "5 days"},
        {"name": "Paracetamol", "dose": "500 mg", "frequency": "TDS", "duration": "3 days"}]}}


async def test_the_voice_consultation_draft_and_its_edits_get_the_consultation_rules(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    cipher = client.app[CIPHER]
    cid = record_id(uuid.uuid4().hex)
    assert await consultations.open_record(services.uow(), cid, patient.user_id, "en")
    await consultations.update_notes(services.uow(), cipher, cid, VOICE_NOTES)
    rx_id = await consultations.close_record(services.uow, cipher, services.safety, cid,
                                             "hangup")
    view = await (await client.get(f"{API}/prescriptions/{rx_id}",
                                   headers=doctor.headers)).json()
    found = {(i["code"], i["medication"]) for i in view["safety"]["issues"]}
    # A first audio consultation: List A nitrofurantoin is blocked; the kidney disease the
    # patient stated blocks it too; paracetamol (List O) passes.
    assert ("TELECONSULTATION", "Nitrofurantoin") in found
    assert ("CONTRAINDICATION", "Nitrofurantoin") in found
    assert not {code for code, name in found if name == "Paracetamol"}
    assert view["safety"]["blocked"] is True

    async def edit(medications: list[dict]) -> dict:
        response = await client.put(f"{API}/prescriptions/{rx_id}", headers=doctor.headers,
                                    json={**view["content"], "medications": medications})
        assert response.status == 200, await response.text()
        return (await response.json())["safety"]

    # The edit is checked against the same consultation: a List A medicine added on review
    # is blocked, and the pregnancy stated in the call still counts.
    added = await edit([{"name": "Cephalexin", "dose": "500 mg", "frequency": "TDS",
                         "duration": "5 days"}])
    assert {(i["code"], i["severity"]) for i in added["issues"]} >= {("TELECONSULTATION",
                                                                       "block")}
    pregnant = await edit([{"name": "Cetirizine", "dose": "10 mg", "frequency": "OD",
                            "duration": "3 days"}])
    assert any(i["code"] == "CONTRAINDICATION" and "pregnancy" in i["message"]
               for i in pregnant["issues"])
    assert pregnant["blocked"] is False
