"""The gate on the full medicine table: brands, teleconsultation lists, breastfeeding, kidney
and liver cautions, and UNKNOWN_DRUG only for names the table truly lacks."""

from __future__ import annotations

from typing import Any

import pytest

from dhanvantri.knowledge.safety import (
    SafetyInputError,
    SafetyResult,
    check_prescription,
    parse_safety_request,
)

ADULT = {"age_years": 35, "sex": "male", "weight_kg": 70}
WOMAN = {"age_years": 28, "sex": "female", "weight_kg": 55}


def rx(*meds: tuple, patient: dict[str, Any] | None = None,
       consultation: dict[str, Any] | None = None) -> SafetyResult:
    request: dict[str, Any] = {
        "patient": {**ADULT, **(patient or {})},
        "medications": [{"name": n, "dose": d, "frequency": f, "duration_days": 5}
                        for n, d, f in meds],
    }
    if consultation is not None:
        request["consultation"] = consultation
    return check_prescription(*parse_safety_request(request))


def worst(result: SafetyResult, code: str) -> str | None:
    found = {i.severity for i in result.issues if i.code == code}
    return next((s for s in ("block", "warn", "info") if s in found), None)


# --- brand names are checked like generics ------------------------------------------------

@pytest.mark.parametrize(("name", "dose", "freq"), [
    ("Dolo 650", "1 tablet", "1-1-1"), ("Augmentin 625", "1 tablet", "BD"),
    ("Azithral 500", "1 tablet", "OD"), ("Pan 40", "40 mg", "OD"), ("Telma 40", "1 tablet", "OD"),
    ("Montair 10", "1 tablet", "HS"), ("Allegra 120", "1 tablet", "OD"),
    ("Thyronorm 50", "50 mcg", "OD"), ("Glycomet 500", "1 tablet", "BD"),
    ("Zerodol", "100 mg", "BD"), ("Ecosprin 75", "1 tablet", "OD"),
])
def test_routine_brand_prescriptions_pass(name: str, dose: str, freq: str) -> None:
    result = rx((name, dose, freq))
    assert result.verdict == "ok", result.to_dict()


def test_brand_doses_are_checked_from_the_strength_in_the_name() -> None:
    assert worst(rx(("Augmentin 625", "2 tablets", "TDS")), "DOSE_RANGE") == "block"  # 3750 mg
    assert worst(rx(("Dolo 650", "2 tablets", "1-1-1")), "DOSE_RANGE") == "block"  # 1300 mg


def test_the_same_generic_under_two_brands_is_a_duplicate() -> None:
    result = rx(("Dolo 650", "1 tablet", "TDS"), ("Crocin", "500 mg", "TDS"))
    assert worst(result, "DUPLICATE_THERAPY") == "warn"
    result = rx(("Nexpro 40", "40 mg", "OD"), ("Pan 40", "40 mg", "OD"))
    assert worst(result, "DUPLICATE_THERAPY") == "warn"  # two proton pump inhibitors


def test_isotretinoin_in_pregnancy_is_a_contraindication_not_an_unknown_drug() -> None:
    result = rx(("Isotroin 20", "20 mg", "OD"), patient={**WOMAN, "pregnant": True})
    assert worst(result, "CONTRAINDICATION") == "block" and worst(result, "UNKNOWN_DRUG") is None


# --- UNKNOWN_DRUG ---------------------------------------------------------------------------

def test_a_misspelt_brand_is_unknown_with_the_closest_names() -> None:
    issue = next(i for i in rx(("Augmentine", "625 mg", "BD")).issues)
    assert issue.code == "UNKNOWN_DRUG" and "did you mean Augmentin" in issue.message


def test_a_name_like_nothing_in_the_table_gets_no_suggestion() -> None:
    issue = next(i for i in rx(("Qwxtrplm", "10 mg", "OD")).issues)
    assert issue.code == "UNKNOWN_DRUG" and "did you mean" not in issue.message


# --- TELECONSULTATION (Telemedicine Practice Guidelines 2020) ------------------------------

FIRST_VIDEO = {"first": True, "mode": "video"}
FIRST_AUDIO = {"first": True, "mode": "audio"}
FOLLOW_UP = {"first": False, "mode": "audio"}


@pytest.mark.parametrize(("name", "dose", "consultation", "expected"), [
    ("paracetamol", "500 mg", FIRST_AUDIO, None),  # List O: any consultation
    ("amoxicillin", "500 mg", FIRST_VIDEO, None),  # List A at a first video consultation
    ("amoxicillin", "500 mg", FIRST_AUDIO, "block"),  # List A needs video at a first one
    ("amoxicillin", "500 mg", FOLLOW_UP, None),
    ("Tegretol", "200 mg", FIRST_VIDEO, "block"),  # List B only at a follow-up
    ("Tegretol", "200 mg", FOLLOW_UP, None),
    ("Tegretol", "200 mg", {"first": True, "mode": "in_person"}, None),
    ("Tegretol", "200 mg", None, None),  # consultation not stated: no list rule
])
def test_teleconsultation_lists(name: str, dose: str, consultation: dict[str, Any] | None,
                                expected: str | None) -> None:
    result = rx((name, dose, "BD"), consultation=consultation)
    assert worst(result, "TELECONSULTATION") == expected


def test_a_prohibited_medicine_is_reported_once_as_controlled() -> None:
    result = rx(("Frisium", "10 mg", "HS"), consultation=FOLLOW_UP)
    assert worst(result, "CONTROLLED_SUBSTANCE") == "block"
    assert worst(result, "TELECONSULTATION") is None


# --- breastfeeding, kidney and liver ------------------------------------------------------

@pytest.mark.parametrize(("name", "dose", "patient", "expected"), [
    ("isotretinoin", "20 mg", {**WOMAN, "breastfeeding": True}, "block"),
    ("amiodarone", "200 mg", {**WOMAN, "breastfeeding": True}, "block"),
    ("Stugeron", "25 mg", {**WOMAN, "breastfeeding": True}, "warn"),
    ("sertraline", "50 mg", {**WOMAN, "breastfeeding": True}, None),
    # Contra-indicated below an eGFR: an unstated grade warns to check it.
    ("metformin", "500 mg", {"renal_impairment": True}, "warn"),
    ("nitrofurantoin", "100 mg", {"renal_impairment": True}, "warn"),
    ("lithium", "400 mg", {"renal_impairment": True}, "block"),  # at any degree
    ("amoxicillin", "500 mg", {"renal_impairment": True}, "info"),
    ("atorvastatin", "10 mg", {"hepatic_impairment": True}, "block"),
    ("paracetamol", "500 mg", {"hepatic_impairment": True}, "warn"),
    ("metformin", "500 mg", {}, None),
])
def test_breastfeeding_kidney_and_liver(name: str, dose: str, patient: dict[str, Any],
                                        expected: str | None) -> None:
    assert worst(rx((name, dose, "OD"), patient=patient), "CONTRAINDICATION") == expected


def test_a_combination_carries_its_components_kidney_caution() -> None:
    result = rx(("Glycomet GP 1", "1 tablet", "OD"), patient={"renal_impairment": True})
    assert worst(result, "CONTRAINDICATION") == "warn"  # metformin's, below an eGFR


# --- request parsing ---------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    ({"consultation": "video"}, "consultation"),
    ({"consultation": {"mode": "video"}}, "consultation.first"),
    ({"consultation": {"first": True, "mode": "fax"}}, "consultation.mode"),
    ({"patient": {**ADULT, "breastfeeding": "yes"}}, "patient.breastfeeding"),
    ({"patient": {**ADULT, "renal_impairment": 1}}, "patient.renal_impairment"),
])
def test_bad_consultation_and_patient_flags_name_the_field(change: dict[str, Any],
                                                           field: str) -> None:
    request = {"patient": dict(ADULT),
               "medications": [{"name": "paracetamol", "dose": "500 mg"}], **change}
    with pytest.raises(SafetyInputError) as raised:
        parse_safety_request(request)
    assert raised.value.field == field


# --- the essential list's hospital, programme and cancer medicines -------------------------

def test_hospital_and_programme_medicines_wait_for_a_follow_up() -> None:
    first_video = {"first": True, "mode": "video"}
    for name, dose in [("Clexane", "40 mg"), ("bedaquiline", "200 mg"), ("Sovaldi", "400 mg"),
                       ("Rotavac", "0.5 ml"), ("normal saline", "500 ml")]:
        result = rx((name, dose, "OD"), consultation=first_video)
        assert worst(result, "TELECONSULTATION") == "block", name
        follow_up = rx((name, dose, "OD"), consultation={"first": False, "mode": "video"})
        assert worst(follow_up, "TELECONSULTATION") is None, name


def test_new_entries_carry_their_rules() -> None:
    # Two brands of imatinib are one generic twice.
    assert worst(rx(("Glivec", "400 mg", "OD"), ("Veenat", "400 mg", "OD")),
                 "DUPLICATE_THERAPY") == "warn"
    # A thalidomide analogue in pregnancy; a strong CYP3A4 inhibitor with simvastatin.
    assert worst(rx(("lenalidomide", "10 mg", "OD"), patient={**WOMAN, "pregnant": True}),
                 "CONTRAINDICATION") == "block"
    assert worst(rx(("Vfend", "200 mg", "BD"), ("simvastatin", "20 mg", "HS")),
                 "INTERACTION") == "block"
    # Kidney impairment with cisplatin (below a clearance: check it); imatinib above its ceiling.
    assert worst(rx(("cisplatin", "100 mg", "STAT"), patient={"renal_impairment": True}),
                 "CONTRAINDICATION") == "warn"
    assert worst(rx(("imatinib", "600 mg", "BD")), "DOSE_RANGE") == "block"
    # Ormeloxifene is a weekly contraceptive (List A) and offered while breastfeeding.
    centchroman = rx(("Centron", "30 mg", "WEEKLY"),
                     patient={**WOMAN, "breastfeeding": True})
    assert centchroman.verdict == "ok", centchroman.to_dict()
