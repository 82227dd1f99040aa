"""The medicine and interaction data as shipped: every entry complete, sourced and unambiguous.

These read the JSON files themselves (not only the parsed table) so that a field the loader
would default, or a brand two entries both claim, fails here with the entry's name.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from importlib import resources
from typing import Any

import pytest

from dhanvantri.knowledge.brands import name_key
from dhanvantri.knowledge.interactions import load_interactions
from dhanvantri.knowledge.medicines import (
    CONTROLLED_SCHEDULES,
    PREGNANCY_RISKS,
    SCHEDULES,
    SEVERITIES,
    canonical_unit,
    load_medicines,
)

# WHO ATC: a letter, then two digits, a letter, a letter and two digits (any prefix of it).
ATC = re.compile(r"^[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?$")
FORM_WORDS = (
    "tablet", "chewable tablet", "vaginal tablet", "capsule", "syrup", "suspension", "drops",
    "injection", "infusion", "cream", "gel", "ointment", "lotion", "solution", "oral solution",
    "buccal solution", "inhaler", "respules", "rotacap", "respimat", "sachet", "granules",
    "spray", "nasal spray", "nasal drops", "eye drops", "eye/ear drops", "eye ointment",
    "shampoo", "foam", "transdermal patch", "suppository", "rectal solution", "elixir",
    "chewing gum", "mouth paint", "gargle", "husk powder", "powder", "oral suspension",
    "oral gel", "mouthwash", "inhalation liquid", "medical gas",
)
STRENGTH = re.compile(r"\d+(?:\.\d+)?(?:\s*(?:mg|mcg|g|IU|ml)\b|%)")
# Given once a week, so one dose is above the daily average the table limits
# (alendronate 70 mg, vitamin D3 60,000 IU).
WEEKLY = frozenset({"alendronate", "cholecalciferol"})
FACTS = ("atc", "schedule", "tpg_list", "brands", "lactation")


def _raw(name: str) -> dict[str, Any]:
    path = resources.files("dhanvantri.knowledge") / "data" / name
    return json.loads(path.read_text("utf-8"))


RAW = _raw("medicines.json")
ENTRIES = RAW["medicines"]
IDS = [e["generic"] for e in ENTRIES]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_every_entry_has_its_required_fields(entry: dict[str, Any]) -> None:
    for key in ("generic", "atc", "brands", "schedule", "tpg_list", "forms", "doses", "sources"):
        assert key in entry, key
    assert ATC.match(entry["atc"]), entry["atc"]
    assert entry["schedule"] in SCHEDULES
    assert entry["forms"] and entry["doses"] and entry["sources"]
    assert set(entry["sources"]) <= set(RAW["sources"])
    if "components" not in entry:
        # A combination may inherit these from its components; a single medicine may not.
        for key in ("classes", "allergy_groups", "tags", "pregnancy", "lactation",
                    "contraindications"):
            assert key in entry, key
    for key in ("pregnancy", "lactation"):
        if key in entry:
            assert entry[key]["risk"] in PREGNANCY_RISKS and entry[key]["note"], key
    for organ in ("renal", "hepatic"):
        if organ in entry:
            assert entry[organ]["severity"] in SEVERITIES and entry[organ]["note"], organ


def test_the_facts_every_entry_carries_name_their_sources() -> None:
    assert set(RAW["fact_sources"]) == set(FACTS)
    for fact, keys in RAW["fact_sources"].items():
        assert keys and set(keys) <= set(RAW["sources"]), fact


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_forms_name_a_dosage_form_and_a_strength(entry: dict[str, Any]) -> None:
    for form in entry["forms"]:
        assert form.startswith(FORM_WORDS), form
        mixture = "components" in entry or "(" in form or form in ("husk powder",)
        assert STRENGTH.search(form) or mixture, form


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_doses_parse_and_their_limits_are_consistent(entry: dict[str, Any]) -> None:
    for dose in entry["doses"]:
        assert canonical_unit(dose["unit"]) is not None, dose["unit"]
        low, high = dose.get("single") or (None, None)
        if low is not None and high is not None:
            assert 0 < low <= high, dose
        daily = dose.get("max_daily")
        if high is not None and daily is not None and "max_weekly" not in dose:
            assert high <= daily or entry["generic"] in WEEKLY, dose
        for key in ("single", "daily"):
            value = dose.get("per_kg", {}).get(key)
            assert value is None or value > 0, dose


def test_no_two_entries_claim_the_same_name() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in ENTRIES:
        for name in (entry["generic"], *entry.get("synonyms", ()), *entry["brands"]):
            owners[name_key(name)].add(entry["generic"])
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


# The guidelines' prohibited list beyond Schedule X and NDPS: "For instance, Anti-Cancer drugs"
# (Telemedicine Practice Guidelines 2020, section 3.7.4), read as ATC L01 and L02 and the one
# anti-myeloma medicine WHO files elsewhere.
ANTI_CANCER_ATC = ("L01", "L02")
ANTI_CANCER_ELSEWHERE = frozenset({"lenalidomide"})


def _anti_cancer(med: Any) -> bool:
    return (any(code.startswith(ANTI_CANCER_ATC) for code in med.atc)
            or med.generic in ANTI_CANCER_ELSEWHERE)


def test_schedule_and_teleconsultation_list_agree() -> None:
    for med in load_medicines():
        controlled = med.schedule in CONTROLLED_SCHEDULES
        assert controlled == med.controlled, med.generic
        prohibited = controlled or _anti_cancer(med)
        assert prohibited == (med.tpg_list == "prohibited"), med.generic


def test_anti_cancer_medicines_are_prohibited_but_not_controlled() -> None:
    table = load_medicines()
    anti_cancer = [med for med in table if _anti_cancer(med)]
    assert len(anti_cancer) >= 35
    assert all(not med.controlled and med.schedule == "H" for med in anti_cancer)
    # Methotrexate's entry is the low weekly dose of rheumatology (WHO files it as an
    # immunosuppressant there): it stays a follow-up medicine, not a prohibited one.
    methotrexate = table.get("methotrexate")
    assert methotrexate is not None and methotrexate.atc == ("L04AX03",)
    assert methotrexate.tpg_list == "B"


def test_coverage_of_the_table() -> None:
    table = load_medicines()
    assert len(table) >= 470
    assert sum(med.nlem for med in table) >= 355
    assert sum(len(med.brands) for med in table) >= 900
    schedules = {med.schedule for med in table}
    assert schedules == set(SCHEDULES)
    assert {med.tpg_list for med in table} == {"O", "A", "B", "prohibited"}
    # Pregnancy category X and its like: each one must be in the table and contraindicated.
    for generic in ("isotretinoin", "acitretin", "warfarin", "methotrexate", "sodium valproate",
                    "atorvastatin", "simvastatin", "rosuvastatin", "ramipril", "enalapril",
                    "lisinopril", "telmisartan", "losartan", "olmesartan", "misoprostol",
                    "leflunomide", "mycophenolate mofetil", "finasteride", "dutasteride",
                    "letrozole", "clomiphene", "griseofulvin", "thiocolchicoside"):
        med = table.get(generic)
        assert med is not None and med.pregnancy_risk == "contraindicated", generic


def test_interactions_name_severity_and_sources() -> None:
    table = load_interactions()
    assert len(table) >= 100
    raw = _raw("interactions.json")
    pairs = [frozenset((e["a"], e["b"])) for e in raw["interactions"]]
    assert len(pairs) == len(set(pairs)), "an interaction pair is listed twice"
    for entry in table.entries:
        assert entry.sources and set(entry.sources) <= set(table.sources)
        assert entry.effect and entry.advice
    meds = load_medicines()
    # The classes the safety gate must know: each named pair resolves to its level.
    for first, second, level in [
        ("azithromycin", "haloperidol", "major"),  # QT prolongation
        ("Linospan", "sertraline", "major"),  # serotonergic
        ("Canditral", "simvastatin", "contraindicated"),  # CYP3A4 inhibitor with a statin
        ("Eliquis", "Ecosprin", "major"),  # anticoagulant with an antiplatelet
        ("Xarelto", "Brufen", "major"),  # anticoagulant with an NSAID
        ("Tadacip", "Nikoran", "contraindicated"),  # PDE5 inhibitor with a nitrate
        ("spironolactone", "ramipril", "major"),  # potassium-sparing with an ACE inhibitor
        ("Pangraf", "Kaletra", "major"),  # tacrolimus with a boosted protease inhibitor
        ("Sovaldi", "amiodarone", "contraindicated"),  # symptomatic bradycardia
        ("Vfend", "rifampicin", "contraindicated"),  # an inducer defeats voriconazole
        ("Sizopin", "carbamazepine", "major"),  # agranulocytosis twice over
        ("drv/r", "R-Cin", "contraindicated"),  # rifampicin defeats a boosted protease inhibitor
    ]:
        a, b = meds.lookup(first), meds.lookup(second)
        assert a is not None and b is not None, (first, second)
        found = table.between(a, b)
        assert found is not None and found.level == level, (first, second)


# Routes by which a medicine is given in a hospital or clinic, never taken at home.
PARENTERAL = ("injection", "infusion", "intramuscular", "intradermal", "subcutaneous",
              "intraperitoneal", "endocervical", "wound infiltration")


# Given by injection but re-prescribed for life and given at any clinic (vitamin B12 deficiency).
CLINIC_INJECTIONS = frozenset({"cyanocobalamin"})


def test_medicines_given_only_by_injection_are_not_for_a_first_teleconsultation() -> None:
    # Telemedicine Practice Guidelines 2020: List O and A are what a teleconsultation may start;
    # an injection, infusion or vaccine given in hospital only continues treatment begun in person.
    for med in load_medicines():
        if (all(form.route.startswith(PARENTERAL) for form in med.doses)
                and med.generic not in CLINIC_INJECTIONS):
            assert med.tpg_list in ("B", "prohibited"), med.generic


@pytest.mark.parametrize("section, names", [
    ("cancer", ["cisplatin", "paclitaxel", "doxorubicin", "Glivec", "tamoxifen", "letrozole",
                "methotrexate", "rituximab", "5-fu", "Calutide"]),
    ("anaesthesia and muscle relaxants", ["succinylcholine", "vecuronium", "atracurium",
                                          "propofol", "lignocaine with adrenaline"]),
    ("vaccines and immunoglobulins", ["bcg vaccine", "Rotavac", "mr vaccine", "opv", "ipv",
                                      "pentavalent vaccine", "hepatitis b vaccine",
                                      "anti-d immunoglobulin", "tetanus immunoglobulin"]),
    ("blood products", ["factor viii", "factor ix", "erythropoietin"]),
    ("diagnostic agents", ["mantoux test", "fluorescein"]),
    ("fluids and dialysis", ["normal saline", "ringer lactate", "dextrose infusion", "mannitol",
                             "sodium bicarbonate", "peritoneal dialysis solution"]),
    ("second-line HIV and hepatitis C", ["Kaletra", "atazanavir+ritonavir", "drv/r", "ritonavir",
                                         "sofosbuvir", "daclatasvir", "tld"]),
    # Medicines the 2022 list added to NLEM 2015, as the Ministry published them.
    ("added in 2022", ["montelukast", "Pradaxa", "lenalidomide", "itraconazole", "ribavirin",
                       "teneligliptin", "insulin glargine", "meropenem", "mupirocin"]),
    ("drug-resistant TB", ["bedaquiline", "delamanid", "cycloserine", "ethionamide"]),
    ("antidotes", ["methylene blue", "desferrioxamine", "penicillamine", "sodium nitrite",
                   "sodium thiosulfate", "protamine"]),
    ("anaesthetic gases and vapours", ["halothane", "Forane", "sevoflurane", "nitrous oxide",
                                       "medical oxygen", "thiopental", "ephedrine"]),
    ("contrast media", ["Omnipaque", "barium sulfate"]),
    ("eye", ["homatropine", "Natamet"]),
    ("antiseptics and disinfectants", ["hydrogen peroxide", "ethanol", "glutaraldehyde"]),
    ("substance use", ["buprenorphine+naloxone", "methadone", "nicotine"]),
    ("antitoxins and solvents", ["diphtheria antitoxin", "water for injection"]),
    ("others", ["voriconazole", "mifepristone", "centchroman", "miltefosine", "ciclosporin",
                "tacrolimus", "carboprost", "dinoprostone", "tenecteplase", "streptokinase"]),
])
def test_sections_of_the_essential_list_resolve_to_nlem_entries(section: str,
                                                                names: list[str]) -> None:
    table = load_medicines()
    for name in names:
        med = table.lookup(name)
        assert med is not None, (section, name)
        assert med.nlem, (section, name)


def test_medicines_the_2022_list_deleted_do_not_cite_it() -> None:
    deleted = {name_key(name) for name in RAW["nlem_2022_deleted"]}
    assert len(deleted) == 26
    table = load_medicines()
    in_table = [med for med in table if name_key(med.generic) in deleted]
    # The table still carries some of them (atenolol, ranitidine...) as medicines in use.
    assert {"atenolol", "chlorpheniramine", "erythromycin", "methyldopa"} <= {
        med.generic for med in in_table}
    assert [med.generic for med in in_table if med.nlem] == []


def test_a_combination_is_on_the_essential_list_only_by_its_own_citation() -> None:
    table = load_medicines()
    # Both components are NLEM medicines; the fixed-dose combination is not on the list.
    combination = table.get("domperidone+pantoprazole")
    assert combination is not None and not combination.nlem
    assert table.get("tenofovir+lamivudine+dolutegravir").nlem


def test_schedule_h1_medicines_only_continue_treatment_by_teleconsultation() -> None:
    # TPG 2020 List A is for relatively safe medicines with low potential for abuse; the Drugs
    # Rules restrict Schedule H1 (reserve antibiotics, anti-TB) against resistance: List B.
    h1 = [med for med in load_medicines() if med.schedule == "H1"]
    assert h1
    assert [med.generic for med in h1 if med.tpg_list != "B"] == []
