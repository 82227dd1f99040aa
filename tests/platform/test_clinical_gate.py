"""The knowledge library's safety gate, fed from stored prescription content and profile."""

from __future__ import annotations

from datetime import date

from dhanvantri.platform.clinical_gate import KnowledgeSafetyGate, age_years
from dhanvantri.platform.domain.accounts import PatientProfile
from dhanvantri.platform.drafts import normalize_content

from .helpers import DRAFT


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
