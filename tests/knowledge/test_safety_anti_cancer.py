"""Anti-cancer medicines by teleconsultation: on the guidelines' prohibited list, reported as
TELECONSULTATION and never as a controlled substance.

Telemedicine Practice Guidelines 2020, section 3.7.4: the prohibited list is "not to be
prescribed" at any consultation, "For instance, Anti-Cancer drugs; Narcotics such as Morphine,
Codeine etc".
"""

from __future__ import annotations

from typing import Any

import pytest

from dhanvantri.knowledge.safety import SafetyResult, check_prescription, parse_safety_request

ADULT = {"age_years": 52, "sex": "female", "weight_kg": 60}
FIRST_VIDEO = {"first": True, "mode": "video"}
FOLLOW_UP_VIDEO = {"first": False, "mode": "video"}
FOLLOW_UP_AUDIO = {"first": False, "mode": "audio"}
IN_PERSON = {"first": True, "mode": "in_person"}


def rx(name: str, dose: str, freq: str,
       consultation: dict[str, Any] | None = None) -> SafetyResult:
    request: dict[str, Any] = {
        "patient": ADULT,
        "medications": [{"name": name, "dose": dose, "frequency": freq, "duration_days": 30}],
    }
    if consultation is not None:
        request["consultation"] = consultation
    return check_prescription(*parse_safety_request(request))


def codes(result: SafetyResult) -> dict[str, str]:
    return {i.code: i.severity for i in result.issues}


@pytest.mark.parametrize(("name", "dose", "freq"), [
    ("tamoxifen", "20 mg", "OD"),  # endocrine therapy of breast cancer (ATC L02)
    ("Letroz", "2.5 mg", "OD"),  # a brand of letrozole
    ("Glivec", "400 mg", "OD"),  # imatinib, a tyrosine kinase inhibitor
    ("capecitabine", "1000 mg", "BD"),  # an oral cytotoxic
    ("Calutide", "50 mg", "OD"),  # bicalutamide
    ("lenalidomide", "10 mg", "OD"),  # anti-myeloma, filed by WHO under L04
])
@pytest.mark.parametrize("consultation", [FIRST_VIDEO, FOLLOW_UP_VIDEO, FOLLOW_UP_AUDIO, None])
def test_an_anti_cancer_medicine_is_blocked_in_every_teleconsultation(
        name: str, dose: str, freq: str, consultation: dict[str, Any] | None) -> None:
    result = rx(name, dose, freq, consultation)
    assert codes(result).get("TELECONSULTATION") == "block", result.to_dict()
    assert "CONTROLLED_SUBSTANCE" not in codes(result)
    assert result.verdict == "block"


def test_the_reason_names_the_guidelines_prohibition() -> None:
    issue = next(i for i in rx("tamoxifen", "20 mg", "OD", FOLLOW_UP_VIDEO).issues
                 if i.code == "TELECONSULTATION")
    assert "anti-cancer" in issue.message and "prohibited list" in issue.message
    assert "Telemedicine Practice Guidelines 2020" in issue.message
    assert "List B" not in issue.message and "Schedule X" not in issue.message


def test_an_in_person_consultation_is_outside_the_guidelines() -> None:
    assert "TELECONSULTATION" not in codes(rx("tamoxifen", "20 mg", "OD", IN_PERSON))


def test_a_narcotic_stays_a_controlled_substance_and_is_reported_once() -> None:
    found = codes(rx("morphine", "10 mg", "QID", FOLLOW_UP_VIDEO))
    assert found.get("CONTROLLED_SUBSTANCE") == "block" and "TELECONSULTATION" not in found


@pytest.mark.parametrize("consultation", [FOLLOW_UP_VIDEO, FOLLOW_UP_AUDIO])
def test_weekly_methotrexate_for_arthritis_stays_a_follow_up_medicine(
        consultation: dict[str, Any]) -> None:
    # The table's methotrexate is the low weekly dose of rheumatology, not a cancer regimen.
    result = rx("Folitrax", "15 mg", "WEEKLY", consultation)
    assert "TELECONSULTATION" not in codes(result), result.to_dict()
    assert codes(rx("Folitrax", "15 mg", "WEEKLY", FIRST_VIDEO)).get("TELECONSULTATION") == "block"


@pytest.mark.parametrize("name", ["ondansetron", "calcium folinate"])
def test_supportive_medicines_of_cancer_care_are_not_prohibited(name: str) -> None:
    dose = "8 mg" if name == "ondansetron" else "15 mg"
    assert "TELECONSULTATION" not in codes(rx(name, dose, "BD", FOLLOW_UP_VIDEO))


@pytest.mark.parametrize("name", ["Gliveec", "tamoxifan", "capecitabin"])
def test_a_misspelt_anti_cancer_medicine_is_blocked_as_what_it_reads_as(name: str) -> None:
    result = rx(name, "20 mg", "OD", FOLLOW_UP_VIDEO)
    issue = next(i for i in result.issues if i.code == "TELECONSULTATION")
    assert issue.severity == "block" and "reads as" in issue.message
    assert "UNKNOWN_DRUG" in codes(result) and result.verdict == "block"
    # In person, nothing is prohibited: the misspelling is only unknown.
    assert "TELECONSULTATION" not in codes(rx(name, "20 mg", "OD", IN_PERSON))
