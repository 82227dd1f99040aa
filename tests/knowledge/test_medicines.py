"""The medicine, interaction and lab test tables: coverage, name resolution and integrity."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from dhanvantri.knowledge.interactions import load_interactions, parse_interactions
from dhanvantri.knowledge.lab_tests import load_lab_tests
from dhanvantri.knowledge.medicines import load_medicines, parse_medicines

REQUIRED_GENERICS = [
    "paracetamol", "ibuprofen", "diclofenac", "aspirin", "cetirizine", "levocetirizine",
    "fexofenadine", "chlorpheniramine", "montelukast", "salbutamol", "budesonide",
    "amoxicillin", "amoxicillin-clavulanate", "azithromycin", "doxycycline", "ciprofloxacin",
    "nitrofurantoin", "cotrimoxazole", "metronidazole", "cefixime", "oral rehydration salts",
    "zinc", "ondansetron", "domperidone", "pantoprazole", "omeprazole", "ranitidine",
    "famotidine", "antacid", "loperamide", "albendazole", "ivermectin", "permethrin",
    "clotrimazole", "fluconazole", "terbinafine", "artemether-lumefantrine", "chloroquine",
    "primaquine", "metformin", "glimepiride", "amlodipine", "telmisartan", "losartan",
    "atenolol", "enalapril", "hydrochlorothiazide", "atorvastatin", "sumatriptan",
    "levothyroxine", "iron-folic acid", "cholecalciferol", "calcium carbonate", "prednisolone",
    "warfarin", "clopidogrel", "morphine", "codeine", "tramadol", "alprazolam", "diazepam",
    "lorazepam", "clonazepam", "zolpidem", "pentazocine", "buprenorphine",
]
CONTROLLED = ["morphine", "codeine", "tramadol", "alprazolam", "diazepam", "lorazepam",
              "clonazepam", "zolpidem", "pentazocine", "buprenorphine", "methylphenidate"]


def _raw(name: str) -> dict:
    path = resources.files("dhanvantri.knowledge") / "data" / name
    return json.loads(path.read_text("utf-8"))


def test_table_covers_primary_care_generics() -> None:
    table = load_medicines()
    assert len(table) >= 70
    missing = [g for g in REQUIRED_GENERICS if table.get(g) is None]
    assert missing == []


def test_every_medicine_cites_sources_schedule_and_tpg_list() -> None:
    table = load_medicines()
    for med in table:
        assert med.sources and all(s in table.sources for s in med.sources), med.generic
        assert med.schedule in {"OTC", "H", "H1", "X", "NDPS"}, med.generic
        assert med.tpg_list in {"O", "A", "B", "prohibited"}, med.generic
        assert med.doses, med.generic


@pytest.mark.parametrize("generic", CONTROLLED)
def test_controlled_drugs_are_marked(generic: str) -> None:
    med = load_medicines().get(generic)
    assert med is not None and med.controlled and med.tpg_list == "prohibited"


@pytest.mark.parametrize("generic", ["paracetamol", "amoxicillin", "metformin", "cetirizine"])
def test_ordinary_drugs_are_not_controlled(generic: str) -> None:
    assert not load_medicines().get(generic).controlled


@pytest.mark.parametrize(
    ("name", "generic"),
    [
        ("Crocin", "paracetamol"), ("Dolo", "paracetamol"), ("Calpol", "paracetamol"),
        ("dolo 650", "paracetamol"), ("DOLO-650 tab", "paracetamol"),
        ("Tab. Dolo 650 mg", "paracetamol"), ("acetaminophen", "paracetamol"),
        ("Augmentin", "amoxicillin-clavulanate"), ("augmentin 625", "amoxicillin-clavulanate"),
        ("Azee", "azithromycin"), ("Azithral 500", "azithromycin"),
        ("Pan 40", "pantoprazole"), ("pan40", "pantoprazole"), ("PAN-40", "pantoprazole"),
        ("Glycomet", "metformin"), ("Combiflam", "ibuprofen+paracetamol"),
        ("Allegra", "fexofenadine"), ("Zyrtec", "cetirizine"), ("Okacet", "cetirizine"),
        ("Septran DS", "cotrimoxazole"), ("co-trimoxazole", "cotrimoxazole"),
        ("Thyronorm", "levothyroxine"), ("thyroxine", "levothyroxine"),
        ("Telma H", "hydrochlorothiazide+telmisartan"), ("Pan D", "domperidone+pantoprazole"),
        ("Alprax", "alprazolam"), ("Ultracet", "paracetamol+tramadol"),
        ("vitamin D3", "cholecalciferol"), ("Electral", "oral rehydration salts"),
        ("  amoxicillin  ", "amoxicillin"), ("AMOXICILLIN", "amoxicillin"),
    ],
)
def test_lookup_resolves_brands_generics_case_and_strength(name: str, generic: str) -> None:
    med = load_medicines().lookup(name)
    assert med is not None and med.generic == generic


@pytest.mark.parametrize(
    ("name", "generic"),
    [
        ("paracetamol + ibuprofen", "ibuprofen+paracetamol"),
        ("Ibuprofen/Paracetamol", "ibuprofen+paracetamol"),
        ("pantoprazole and domperidone", "domperidone+pantoprazole"),
        ("amoxicillin with clavulanic acid", "amoxicillin-clavulanate"),
    ],
)
def test_lookup_resolves_combinations_written_as_components(name: str, generic: str) -> None:
    assert load_medicines().lookup(name).generic == generic


@pytest.mark.parametrize("name", ["", "   ", "xyzzol", "Crocin Cold and Flu", "dolo plus magic"])
def test_lookup_returns_none_for_unknown_names(name: str) -> None:
    assert load_medicines().lookup(name) is None


def test_combination_inherits_component_cautions() -> None:
    combiflam = load_medicines().lookup("Combiflam")
    assert combiflam.ingredients == {"ibuprofen", "paracetamol"}
    assert "NSAID" in combiflam.classes and "nsaid" in combiflam.allergy_groups
    assert "nsaid" in combiflam.tags
    assert combiflam.pregnancy_risk == "avoid"  # ibuprofen's, the worse of the two


def test_dose_form_unit_conversion() -> None:
    table = load_medicines()
    paracetamol = table.get("paracetamol").dose_form("g")
    assert paracetamol.convert(1, "g") == 1000
    salbutamol = table.get("salbutamol")
    assert salbutamol.dose_form("puff").convert(2, "puff") == 200
    assert salbutamol.dose_form("mg").route.startswith("oral")
    assert table.get("paracetamol").dose_form("ml") is None


def test_allergy_group_synonyms() -> None:
    table = load_medicines()
    assert table.allergy_group("Sulpha drugs") == "sulfonamide"
    assert table.allergy_group("penicillins") == "penicillin"
    assert table.allergy_group("NSAIDs") == "nsaid"
    assert table.allergy_group("peanuts") is None


def test_parse_rejects_a_brand_shared_by_two_medicines() -> None:
    raw = copy.deepcopy(_raw("medicines.json"))
    ibuprofen = next(m for m in raw["medicines"] if m["generic"] == "ibuprofen")
    ibuprofen["brands"].append("Crocin")
    with pytest.raises(ValueError, match="crocin"):
        parse_medicines(raw)


def test_parse_rejects_unknown_schedule_and_source() -> None:
    raw = copy.deepcopy(_raw("medicines.json"))
    raw["medicines"][0]["schedule"] = "Z"
    raw["medicines"][0]["sources"] = ["NOWHERE"]
    with pytest.raises(ValueError, match=r"schedule 'Z'.*sources"):
        parse_medicines(raw)


def test_interaction_table_is_consistent_with_medicines() -> None:
    table = load_interactions()
    assert len(table) >= 40
    assert all(e.sources for e in table.entries)
    raw = copy.deepcopy(_raw("interactions.json"))
    raw["interactions"][0]["b"] = "@no_such_tag"
    with pytest.raises(ValueError, match="no_such_tag"):
        parse_interactions(raw, load_medicines())


def test_interaction_lookup_prefers_the_most_severe_entry() -> None:
    table, meds = load_interactions(), load_medicines()
    found = table.between(meds.get("domperidone"), meds.get("clarithromycin"))
    assert found.level == "contraindicated"  # beats the generic QT + QT entry (major)
    assert table.between(meds.get("amoxicillin"), meds.get("paracetamol")) is None


def test_lab_tests_have_preparation_ranges_and_sources() -> None:
    labs = load_lab_tests()
    assert len(labs) >= 20
    for test in labs.tests:
        assert test.preparation and test.specimen and test.ranges, test.name
        assert all(s in labs.sources for s in test.sources), test.name
    fbs = labs.lookup("FBS")
    assert fbs.name == "Fasting plasma glucose" and "8 hours" in fbs.preparation
    assert labs.lookup("cbnaat").name == "Sputum test for tuberculosis"
    assert labs.lookup("unknown test") is None


def test_suggestions_are_close_spellings_one_per_medicine() -> None:
    table = load_medicines()
    assert table.suggest("Augmentine 625 tab")[0] == "Augmentin"
    close = table.suggest("Telmisartn")
    assert close[0] == "telmisartan"
    generics = [table.lookup(name).generic for name in close]
    assert len(generics) == len(set(generics))  # one name per medicine
    assert table.suggest("zz") == [] and table.suggest("Qwxtrplm") == []
