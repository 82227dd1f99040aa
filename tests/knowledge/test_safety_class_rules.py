"""The gate's class-wide readings: an allergy to one member, a misspelt controlled name, older-age
'avoid' lists, kidney grades, long-term per-kg figures and TPG List B add-on combinations."""

from __future__ import annotations

from typing import Any

import pytest

from dhanvantri.knowledge.safety import SafetyResult, check_prescription, parse_safety_request

ADULT = {"age_years": 35, "sex": "male", "weight_kg": 70}
FIRST_VIDEO = {"first": True, "mode": "video"}


def rx(*meds: tuple[str, str, str], patient: dict[str, Any] | None = None,
       current: list[str] | None = None,
       consultation: dict[str, Any] | None = None) -> SafetyResult:
    request: dict[str, Any] = {
        "patient": {**ADULT, **(patient or {}), "current_medications": current or []},
        "medications": [{"name": n, "dose": d, "frequency": f} for n, d, f in meds],
    }
    if consultation is not None:
        request["consultation"] = consultation
    return check_prescription(*parse_safety_request(request))


def worst(result: SafetyResult, code: str) -> str | None:
    found = {i.severity for i in result.issues if i.code == code}
    return next((s for s in ("block", "warn", "info") if s in found), None)


@pytest.mark.parametrize(("allergy", "name", "dose", "expected"), [
    ("aspirin", "Combiflam", "1 tablet", "block"),      # NSAID class, in a combination
    ("ibuprofen", "Zerodol-P", "1 tablet", "block"),
    ("ciprofloxacin", "Levoflox 500", "500 mg", "block"),
    ("metronidazole", "tinidazole", "500 mg", "block"),
    ("amoxicillin", "Pencom", "1200000 IU", "block"),  # penicillins
    ("penicillin", "Cepodem", "200 mg", "warn"),        # cross-reacting class stays a warning
    ("carbamazepine", "Oxetol 300", "300 mg", "warn"),  # not a class-wide allergy
    ("ibuprofen", "paracetamol", "500 mg", None),
])
def test_an_allergy_to_one_member_covers_a_class_wide_class(
        allergy: str, name: str, dose: str, expected: str | None) -> None:
    result = rx((name, dose, "BD"), patient={"allergies": [allergy]})
    assert worst(result, "ALLERGY") == expected


def test_a_misspelt_controlled_name_blocks_and_says_what_it_reads_as() -> None:
    result = rx(("Alprazolum 0.5", "0.5 mg", "HS"))
    assert result.verdict == "block"
    blocked = [i for i in result.issues if i.code == "CONTROLLED_SUBSTANCE"]
    assert blocked and "reads as alprazolam" in blocked[0].message
    assert worst(result, "UNKNOWN_DRUG") == "warn"


def test_a_misspelt_name_in_the_allergy_class_blocks() -> None:
    result = rx(("Amoxycilin 500", "500 mg", "TDS"), patient={"allergies": ["penicillin"]})
    assert worst(result, "ALLERGY") == "block"
    # Without the allergy the same typo is only an unknown name.
    assert rx(("Amoxycilin 500", "500 mg", "TDS")).verdict == "warn"


def test_a_name_far_from_any_controlled_one_is_only_unknown() -> None:
    result = rx(("Zyntrelax 10", "10 mg", "OD"))
    assert result.codes() == {"UNKNOWN_DRUG"}


@pytest.mark.parametrize(("name", "dose", "generic"), [
    ("Nexito Plus", "1 tablet", "clonazepam+escitalopram"),
    ("Acitrom 2", "2 mg", "acenocoumarol"),
    ("amiloride", "5 mg", "amiloride"),
    ("Pregabid 75", "75 mg", "pregabalin"),
])
def test_added_brands_and_generics_resolve(name: str, dose: str, generic: str) -> None:
    result = rx((name, dose, "OD"))
    assert "UNKNOWN_DRUG" not in result.codes(), result.to_dict()
    assert rx(("Nexito Plus", "1 tablet", "HS")).verdict == "block"


def test_a_strength_written_without_a_space_is_read() -> None:
    assert rx(("Augmentin625", "1 tablet", "BD")).verdict == "ok"
    assert worst(rx(("Augmentin625", "3 tablet", "TDS")), "DOSE_RANGE") == "block"


def test_acenocoumarol_takes_the_coumarin_interactions() -> None:
    assert worst(rx(("Acitrom 2", "2 mg", "OD"), ("Brufen 400", "400 mg", "TDS")),
                 "INTERACTION") == "warn"
    assert worst(rx(("Metrogyl 400", "400 mg", "TDS"), current=["Acitrom 2"]),
                 "INTERACTION") == "warn"


def test_ibuprofen_with_current_aspirin_warns_and_potassium_sparing_with_an_ace_inhibitor() -> None:
    assert worst(rx(("Brufen 400", "400 mg", "TDS"), current=["Ecosprin 75"]),
                 "INTERACTION") == "warn"
    assert worst(rx(("Envas 5", "5 mg", "OD"), ("amiloride", "5 mg", "OD")),
                 "INTERACTION") == "warn"


@pytest.mark.parametrize(("name", "dose", "expected"), [
    ("Daonil 5", "5 mg", "warn"), ("Tryptomer 25", "25 mg", "warn"),
    ("chlorpheniramine", "4 mg", "warn"), ("glimepiride", "1 mg", "info"),
])
def test_beers_avoid_in_older_adults_warns(name: str, dose: str, expected: str) -> None:
    result = rx((name, dose, "OD"), patient={"age_years": 78, "weight_kg": 60})
    assert worst(result, "CONTRAINDICATION") == expected


def test_kidney_cautions_below_an_egfr_warn_unless_the_impairment_is_severe() -> None:
    assert worst(rx(("Glycomet 500", "500 mg", "BD"), patient={"renal_impairment": True}),
                 "CONTRAINDICATION") == "warn"
    assert worst(rx(("Glycomet 500", "500 mg", "BD"),
                    patient={"severe_renal_impairment": True}), "CONTRAINDICATION") == "block"
    # Lithium is avoided at any degree of impairment.
    assert worst(rx(("lithium", "400 mg", "BD"), patient={"renal_impairment": True}),
                 "CONTRAINDICATION") == "block"


def test_hydroxychloroquine_at_the_label_dose_warns_above_5_mg_per_kg() -> None:
    result = rx(("HCQS 200", "200 mg", "BD"))  # 400 mg for 70 kg: over 5 mg/kg, label dose
    assert worst(result, "DOSE_RANGE") == "warn"
    assert worst(rx(("HCQS 200", "400 mg", "BD")), "DOSE_RANGE") == "block"


@pytest.mark.parametrize("name", ["Glycomet-GP 1", "Telma-H", "Telma AM"])
def test_add_on_combinations_are_list_b(name: str) -> None:
    assert worst(rx((name, "1 tablet", "OD"), consultation=FIRST_VIDEO),
                 "TELECONSULTATION") == "block"
    assert worst(rx((name, "1 tablet", "OD"), consultation={"first": False, "mode": "audio"}),
                 "TELECONSULTATION") is None
