"""The prescription safety gate: each issue code with cases that must and must not fire."""

from __future__ import annotations

from typing import Any

import pytest

from dhanvantri.knowledge.safety import (
    CODES,
    SafetyResult,
    check_prescription,
    parse_safety_request,
)

ADULT = {"age_years": 35, "sex": "male", "weight_kg": 70}


def rx(*meds: tuple, patient: dict[str, Any] | None = None) -> SafetyResult:
    """Check ``(name, dose, frequency)`` lines for a patient (an adult man by default)."""
    request = {
        "patient": {**ADULT, **(patient or {})},
        "medications": [{"name": n, "dose": d, "frequency": f, "duration_days": 5}
                        for n, d, f in meds],
    }
    return check_prescription(*parse_safety_request(request))


def issues(result: SafetyResult, code: str) -> list:
    return [i for i in result.issues if i.code == code]


def severity(result: SafetyResult, code: str) -> str | None:
    """The worst severity among issues with ``code``, or None when there is none."""
    found = [i.severity for i in issues(result, code)]
    for level in ("block", "warn", "info"):
        if level in found:
            return level
    return None


def test_a_routine_prescription_is_ok() -> None:
    result = rx(("Dolo 650", "650 mg", "TDS"), ("cetirizine", "10 mg", "HS"),
                ("ORS", "200 ml", "SOS"))
    assert result.verdict == "ok" and result.issues == ()


# --- CONTROLLED_SUBSTANCE ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["Alprax", "tramadol", "morphine", "Ultracet", "zolpidem",
                                  "clonazepam", "codeine phosphate", "Fortwin", "Ritalin"])
def test_controlled_substances_block(name: str) -> None:
    result = rx((name, "1 tablet" if name == "Ultracet" else "5 mg", "OD"))
    assert severity(result, "CONTROLLED_SUBSTANCE") == "block" and result.verdict == "block"
    assert "Telemedicine Practice Guidelines" in issues(result, "CONTROLLED_SUBSTANCE")[0].message


@pytest.mark.parametrize("name", ["paracetamol", "Azee", "Glycomet", "cetirizine"])
def test_ordinary_medicines_are_not_controlled(name: str) -> None:
    assert not issues(rx((name, "500 mg", "OD")), "CONTROLLED_SUBSTANCE")


# --- ALLERGY ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("allergy", "name", "dose", "expected"),
    [
        ("penicillin", "amoxicillin", "500 mg", "block"),
        ("Penicillin allergy", "Augmentin", "625 mg", "block"),
        ("sulfa", "cotrimoxazole", "960 mg", "block"),
        ("sulpha drugs", "Septran DS", "960 mg", "block"),
        ("amoxicillin", "Augmentin 625", "625 mg", "block"),  # drug allergy, combination
        ("NSAIDs", "Combiflam", "1 tablet", "block"),
        ("ibuprofen", "diclofenac", "50 mg", "block"),  # one NSAID named: the class (BNF)
        ("penicillin", "cefixime", "200 mg", "warn"),  # cross-reacting class
        ("aspirin", "ibuprofen", "400 mg", "block"),  # aspirin is an NSAID: the class
        ("sulfa", "hydrochlorothiazide", "12.5 mg", "info"),  # non-antibiotic sulfonamide
        ("sulfonamides", "sulfadoxine-pyrimethamine", "1500 mg", "block"),
        ("penicillin", "azithromycin", "500 mg", None),
        ("dust", "amoxicillin", "500 mg", None),
        ("peanuts", "paracetamol", "500 mg", None),
    ],
)
def test_allergy(allergy: str, name: str, dose: str, expected: str | None) -> None:
    result = rx((name, dose, "BD"), patient={"allergies": [allergy]})
    assert severity(result, "ALLERGY") == expected


# --- INTERACTION --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("meds", "current", "expected"),
    [
        ([("ibuprofen", "400 mg", "TDS")], ["warfarin"], "warn"),
        ([("Combiflam", "1 tablet", "TDS")], ["Warf 5"], "warn"),  # via the NSAID component
        ([("sildenafil", "50 mg", "SOS"), ("isosorbide mononitrate", "20 mg", "BD")], [],
         "block"),
        ([("tizanidine", "2 mg", "TDS"), ("ciprofloxacin", "500 mg", "BD")], [], "block"),
        ([("Septran DS", "960 mg", "BD")], ["methotrexate"], "block"),
        ([("clarithromycin", "500 mg", "BD")], ["simvastatin"], "block"),
        ([("azithromycin", "500 mg", "OD"), ("ondansetron", "4 mg", "TDS")], [], "warn"),
        ([("omeprazole", "20 mg", "OD")], ["clopidogrel"], "warn"),
        ([("telmisartan", "40 mg", "OD"), ("enalapril", "5 mg", "OD")], [], "warn"),
        ([("doxycycline", "100 mg", "BD"), ("Shelcal", "500 mg", "OD")], [], "info"),
        ([("HRZE", "4 tablet", "OD")], ["warfarin"], "warn"),  # via the rifampicin component
        ([("amoxicillin", "500 mg", "TDS"), ("paracetamol", "500 mg", "TDS")], [], None),
        ([("pantoprazole", "40 mg", "OD")], ["clopidogrel"], None),
        ([("amlodipine", "5 mg", "OD"), ("telmisartan", "40 mg", "OD")], [], None),
    ],
)
def test_interaction(meds: list, current: list[str], expected: str | None) -> None:
    result = rx(*meds, patient={"current_medications": current})
    assert severity(result, "INTERACTION") == expected


def test_a_product_and_its_own_component_are_a_duplicate_not_an_interaction() -> None:
    result = rx(("Pan D", "1 capsule", "OD"), ("domperidone", "10 mg", "TDS"))
    assert severity(result, "DUPLICATE_THERAPY") == "warn"
    assert not issues(result, "INTERACTION")  # not "domperidone QT + domperidone QT"


def test_interaction_between_current_medicines_is_not_reported() -> None:
    result = rx(("cetirizine", "10 mg", "OD"), patient={"current_medications": ["warfarin",
                                                                                 "aspirin"]})
    assert not issues(result, "INTERACTION")


def test_info_interaction_alone_keeps_the_verdict_ok() -> None:
    result = rx(("doxycycline", "100 mg", "BD"), ("zinc", "20 mg", "OD"))
    assert severity(result, "INTERACTION") == "info" and result.verdict == "ok"


# --- DOSE_RANGE ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "dose", "freq", "patient", "expected"),
    [
        ("paracetamol", "1000 mg", "QID", {}, None),  # 4 g a day: the maximum
        ("paracetamol", "1 g", "TDS", {}, None),  # unit conversion
        ("paracetamol", "1500 mg", "OD", {}, "block"),  # single dose too high
        ("paracetamol", "650 mg", "Q6H", {}, None),
        ("paracetamol", "1000 mg", "1-1-1-1", {}, None),  # Indian slot notation: 4 a day
        ("ibuprofen", "800 mg", "1-1-1-1", {}, "block"),  # 3200 mg a day
        ("Dolo 650", "1000 mg", "SOS", {}, None),  # SOS counts as 4 a day: 4 g
        ("ibuprofen", "800 mg", "SOS", {}, "block"),  # 4 x 800 = 3200 > 2400
        ("ibuprofen", "800 mg", "TDS", {}, None),
        ("amoxicillin", "100 mg", "TDS", {}, "warn"),  # below the adult minimum
        ("methotrexate", "7.5 mg", "OD", {}, "block"),  # weekly drug given daily
        ("methotrexate", "7.5 mg", "WEEKLY", {}, None),
        ("vitamin D3", "60000 IU", "WEEKLY", {}, None),
        ("vitamin D3", "60000 IU", "OD", {}, "block"),
        ("Asthalin inhaler", "2 puffs", "QID", {}, None),  # 200 mcg
        ("Asthalin inhaler", "4 puffs", "SOS", {}, None),  # 400 mcg, 4 times a day at most
        ("Asthalin inhaler", "8 puffs", "SOS", {}, "block"),  # 800 mcg per dose
        ("paracetamol", "5 ml", "TDS", {}, "warn"),  # cannot be checked in ml
        ("clotrimazole cream", "1 application", "BD", {}, None),  # no ceiling for topicals
        ("paracetamol", "250 mg", "QID", {"age_years": 6, "weight_kg": 20}, None),
        ("Calpol", "500 mg", "QID", {"age_years": 6, "weight_kg": 20}, "block"),  # 15 mg/kg
        ("amoxicillin", "250 mg", "TDS", {"age_years": 4, "weight_kg": None}, "warn"),
        ("cetirizine", "10 mg", "OD", {"age_years": 4, "weight_kg": None}, "block"),  # age band
        ("ivermectin", "24 mg", "OD", {"weight_kg": 40}, "block"),  # 0.4 mg/kg at any age
        ("Coartem", "4 tablet", "BD", {"age_years": 8, "weight_kg": 22}, "block"),  # weight band
        ("Coartem", "2 tablet", "BD", {"age_years": 8, "weight_kg": 22}, None),
        ("oseltamivir", "75 mg", "BD", {"age_years": 5, "weight_kg": 18}, "block"),  # 45 mg band
        ("HRZE", "4 tablet", "OD", {"weight_kg": 45}, "block"),  # 3 tablets for 40-54 kg
        ("HRZE", "3 tablet", "OD", {"weight_kg": 45}, None),
        ("acyclovir", "800 mg", "5XDAY", {}, None),  # chickenpox: 4 g a day
        ("acyclovir", "800 mg", "Q4H", {}, "block"),  # 4.8 g a day
        ("Dolo 650", "1 tablet", "TDS", {}, None),  # strength from the name: 650 mg
        ("Dolo 650", "2 tablets", "QID", {}, "block"),  # 1300 mg a dose
        ("Uprise D3 60K", "1 capsule", "WEEKLY", {}, None),  # 60,000 IU
        ("Uprise D3 60K", "1 capsule", "OD", {}, "block"),
        ("vitamin D3", "1 capsule", "OD", {}, "warn"),  # no strength in the name: unchecked
        ("Crocin", "1 tablet", "TDS", {}, "warn"),
    ],
)
def test_dose_range(name: str, dose: str, freq: str, patient: dict, expected: str | None) -> None:
    assert severity(rx((name, dose, freq), patient=patient), "DOSE_RANGE") == expected


def test_dose_range_reports_single_and_daily_limits_separately() -> None:
    result = rx(("paracetamol", "1500 mg", "QID"))
    messages = [i.message for i in issues(result, "DOSE_RANGE")]
    assert any("single dose of 1000 mg" in m for m in messages)
    assert any("6000 mg a day" in m and "4000 mg" in m for m in messages)


def test_one_generic_in_several_lines_is_added_up() -> None:
    result = rx(("Dolo 650", "1000 mg", "QID"), ("Combiflam", "1 tablet", "TDS"))
    combined = [i for i in issues(result, "DOSE_RANGE") if "together" in i.message]
    assert combined and combined[0].severity == "block" and "4975 mg of paracetamol" in \
        combined[0].message
    fine = rx(("Dolo 650", "650 mg", "TDS"), ("Combiflam", "1 tablet", "TDS"))
    assert not [i for i in issues(fine, "DOSE_RANGE") if "together" in i.message]


# --- CONTRAINDICATION ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "dose", "patient", "expected"),
    [
        ("telmisartan", "40 mg", {"sex": "female", "pregnant": True}, "block"),
        ("atorvastatin", "10 mg", {"sex": "female", "pregnant": True}, "block"),
        ("Warf", "5 mg", {"sex": "female", "pregnant": True}, "block"),
        ("ibuprofen", "400 mg", {"sex": "female", "pregnant": True}, "warn"),
        ("paracetamol", "500 mg", {"sex": "female", "pregnant": True}, None),
        ("telmisartan", "40 mg", {"sex": "female", "pregnant": False}, None),
        ("aspirin", "300 mg", {"age_years": 10, "weight_kg": 30}, "block"),  # Reye's
        ("aspirin", "75 mg", {"age_years": 40}, None),
        ("doxycycline", "50 mg", {"age_years": 6, "weight_kg": 20}, "warn"),
        ("loperamide", "2 mg", {"age_years": 1, "weight_kg": 10}, "block"),
        ("loperamide", "2 mg", {"age_years": 8, "weight_kg": 25}, "warn"),
        ("ivermectin", "3 mg", {"age_years": 3, "weight_kg": 12}, "warn"),  # under 15 kg
        ("glimepiride", "1 mg", {"age_years": 72}, "info"),  # older people
        ("glimepiride", "1 mg", {"age_years": 50}, None),
    ],
)
def test_contraindication(name: str, dose: str, patient: dict, expected: str | None) -> None:
    assert severity(rx((name, dose, "OD"), patient=patient), "CONTRAINDICATION") == expected


# --- DUPLICATE_THERAPY --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("meds", "current", "duplicate"),
    [
        ([("Crocin", "500 mg", "TDS"), ("paracetamol", "500 mg", "TDS")], [], True),
        ([("Combiflam", "1 tablet", "TDS"), ("Dolo 650", "650 mg", "TDS")], [], True),
        ([("pantoprazole", "40 mg", "OD"), ("omeprazole", "20 mg", "OD")], [], True),
        ([("omeprazole", "20 mg", "OD")], ["Pan 40"], True),
        ([("Telma H", "1 tablet", "OD"), ("hydrochlorothiazide", "12.5 mg", "OD")], [], True),
        ([("cetirizine", "10 mg", "OD"), ("Allegra", "120 mg", "OD")], [], True),
        ([("amlodipine", "5 mg", "OD"), ("telmisartan", "40 mg", "OD")], [], False),
        ([("isosorbide mononitrate", "20 mg", "BD"), ("glyceryl trinitrate", "0.5 mg", "SOS")],
         [], False),  # long-acting plus rescue nitrate is intended
        ([("metformin", "500 mg", "BD")], ["glimepiride"], False),
    ],
)
def test_duplicate_therapy(meds: list, current: list[str], duplicate: bool) -> None:
    result = rx(*meds, patient={"current_medications": current})
    assert (severity(result, "DUPLICATE_THERAPY") == "warn") is duplicate


# --- UNKNOWN_DRUG and the verdict ---------------------------------------------------------

def test_unknown_prescribed_drug_warns() -> None:
    result = rx(("Xyzzol", "10 mg", "OD"), ("paracetamol", "500 mg", "TDS"))
    assert severity(result, "UNKNOWN_DRUG") == "warn" and result.verdict == "warn"
    assert issues(result, "UNKNOWN_DRUG")[0].medication == "Xyzzol"


def test_unknown_current_medicine_is_only_noted() -> None:
    result = rx(("paracetamol", "500 mg", "TDS"), patient={"current_medications": ["herbal X"]})
    assert severity(result, "UNKNOWN_DRUG") == "info" and result.verdict == "ok"


def test_known_drug_is_not_unknown() -> None:
    assert not issues(rx(("Azithral 500", "500 mg", "OD")), "UNKNOWN_DRUG")


def test_verdict_is_the_worst_severity_and_issues_are_worst_first() -> None:
    result = rx(("Alprax", "0.5 mg", "HS"), ("Xyzzol", "1 mg", "OD"),
                ("doxycycline", "100 mg", "BD"), ("zinc", "20 mg", "OD"))
    assert result.verdict == "block"
    ranks = [{"block": 2, "warn": 1, "info": 0}[i.severity] for i in result.issues]
    assert ranks == sorted(ranks, reverse=True)
    assert result.codes() <= set(CODES)
    body = result.to_dict()
    assert set(body) == {"verdict", "issues"}
    assert set(body["issues"][0]) == {"code", "severity", "medication", "message"}


# --- the protocols of the condition knowledge base pass the gate ---------------------------

def test_every_protocol_medicine_is_known_and_its_adult_order_passes() -> None:
    from dhanvantri.knowledge.conditions import load_conditions
    from dhanvantri.knowledge.medicines import load_medicines
    from dhanvantri.knowledge.safety import MedicationOrder, PatientContext

    table = load_medicines()
    adult = PatientContext(age_years=35, sex="male", weight_kg=60)
    unknown, flagged = [], []
    for condition in load_conditions():
        for line in condition.medicines:
            if table.lookup(line.generic) is None:
                unknown.append(line.generic)
            elif line.order is not None:
                order = MedicationOrder(line.generic, line.order.amount, line.order.unit,
                                        line.order.freq)
                result = check_prescription(adult, [order])
                if result.verdict != "ok":
                    flagged.append((condition.id, line.generic, result.to_dict()["issues"]))
    assert unknown == [] and flagged == []
