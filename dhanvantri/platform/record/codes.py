"""Standard codes for what the record holds, where we know them for certain: ATC for
medicines, LOINC for lab analytes, SNOMED CT for a few long-term conditions, UCUM for units.

The lab table in ``dhanvantri.knowledge`` carries names, not codes, and the medicine table's
ATC codes are used where it has one; these maps add codes to the entries whose code is
unambiguous. Where one name has several codes (aspirin is
B01AC06 as an antiplatelet and N02BA01 as an analgesic; an LDL measured or calculated; eGFR by
equation) no code is given and the export carries the text alone, as FHIR allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...knowledge.medicines import load_medicines

ATC = "http://www.whocc.no/atc"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"

# WHO ATC/DDD index, by the medicine table's generic name.
_ATC: dict[str, tuple[str, str]] = {
    "aceclofenac": ("M01AB16", "aceclofenac"), "acyclovir": ("J05AB01", "aciclovir"),
    "adapalene": ("D10AD03", "adapalene"), "albendazole": ("P02CA03", "albendazole"),
    "alprazolam": ("N05BA12", "alprazolam"), "amitriptyline": ("N06AA09", "amitriptyline"),
    "amlodipine": ("C08CA01", "amlodipine"), "amoxicillin": ("J01CA04", "amoxicillin"),
    "amoxicillin-clavulanate": ("J01CR02", "amoxicillin and beta-lactamase inhibitor"),
    "artemether-lumefantrine": ("P01BF01", "artemether and lumefantrine"),
    "artesunate": ("P01BE03", "artesunate"), "atenolol": ("C07AB03", "atenolol"),
    "atorvastatin": ("C10AA05", "atorvastatin"), "azithromycin": ("J01FA10", "azithromycin"),
    "benzoyl peroxide": ("D10AE01", "benzoyl peroxide"),
    "budesonide-formoterol": ("R03AK07", "formoterol and budesonide"),
    "calcium carbonate": ("A12AA04", "calcium carbonate"), "cefixime": ("J01DD08", "cefixime"),
    "cephalexin": ("J01DB01", "cefalexin"), "cetirizine": ("R06AE07", "cetirizine"),
    "chloroquine": ("P01BA01", "chloroquine"), "chlorpheniramine": ("R06AB04", "chlorphenamine"),
    "chlorthalidone": ("C03BA04", "chlortalidone"),
    "cholecalciferol": ("A11CC05", "colecalciferol"),
    "ciprofloxacin": ("J01MA02", "ciprofloxacin"), "clarithromycin": ("J01FA09", "clarithromycin"),
    "clonazepam": ("N03AE01", "clonazepam"), "clopidogrel": ("B01AC04", "clopidogrel"),
    "cotrimoxazole": ("J01EE01", "sulfamethoxazole and trimethoprim"),
    "diazepam": ("N05BA01", "diazepam"), "diclofenac": ("M01AB05", "diclofenac"),
    "dicyclomine": ("A03AA07", "dicycloverine"), "domperidone": ("A03FA03", "domperidone"),
    "doxycycline": ("J01AA02", "doxycycline"), "enalapril": ("C09AA02", "enalapril"),
    "escitalopram": ("N06AB10", "escitalopram"), "famotidine": ("A02BA03", "famotidine"),
    "fexofenadine": ("R06AX26", "fexofenadine"), "fluconazole": ("J02AC01", "fluconazole"),
    "fluoxetine": ("N06AB03", "fluoxetine"), "folic acid": ("B03BB01", "folic acid"),
    "fosfomycin": ("J01XX01", "fosfomycin"), "furosemide": ("C03CA01", "furosemide"),
    "gliclazide": ("A10BB09", "gliclazide"), "glimepiride": ("A10BB12", "glimepiride"),
    "glimepiride+metformin": ("A10BD02", "metformin and sulfonylureas"),
    "glyceryl trinitrate": ("C01DA02", "glyceryl trinitrate"),
    "hydrochlorothiazide": ("C03AA03", "hydrochlorothiazide"),
    "hydroxychloroquine": ("P01BA02", "hydroxychloroquine"), "ibuprofen": ("M01AE01", "ibuprofen"),
    "isosorbide dinitrate": ("C01DA08", "isosorbide dinitrate"),
    "isosorbide mononitrate": ("C01DA14", "isosorbide mononitrate"),
    "ispaghula husk": ("A06AC01", "ispaghula (psylla seeds)"),
    "ivermectin": ("P02CF01", "ivermectin"), "lactulose": ("A06AD11", "lactulose"),
    "levocetirizine": ("R06AE09", "levocetirizine"), "levofloxacin": ("J01MA12", "levofloxacin"),
    "levothyroxine": ("H03AA01", "levothyroxine sodium"), "lithium": ("N05AN01", "lithium"),
    "loperamide": ("A07DA03", "loperamide"), "lorazepam": ("N05BA06", "lorazepam"),
    "losartan": ("C09CA01", "losartan"), "mefenamic acid": ("M01AG01", "mefenamic acid"),
    "metformin": ("A10BA02", "metformin"), "methylphenidate": ("N06BA04", "methylphenidate"),
    "metoprolol": ("C07AB02", "metoprolol"), "metronidazole": ("P01AB01", "metronidazole"),
    "montelukast": ("R03DC03", "montelukast"), "morphine": ("N02AA01", "morphine"),
    "mupirocin": ("D06AX09", "mupirocin"), "naproxen": ("M01AE02", "naproxen"),
    "nitrofurantoin": ("J01XE01", "nitrofurantoin"), "ofloxacin": ("J01MA01", "ofloxacin"),
    "omeprazole": ("A02BC01", "omeprazole"), "ondansetron": ("A04AA01", "ondansetron"),
    "oral rehydration salts": ("A07CA", "oral rehydration salt formulations"),
    "oseltamivir": ("J05AH02", "oseltamivir"), "pantoprazole": ("A02BC02", "pantoprazole"),
    "paracetamol": ("N02BE01", "paracetamol"),
    "paracetamol+tramadol": ("N02AJ13", "tramadol and paracetamol"),
    "pentazocine": ("N02AD01", "pentazocine"), "permethrin": ("P03AC04", "permethrin"),
    "phenobarbital": ("N03AA02", "phenobarbital"), "prednisolone": ("H02AB06", "prednisolone"),
    "primaquine": ("P01BA03", "primaquine"), "propranolol": ("C07AA05", "propranolol"),
    "rabeprazole": ("A02BC04", "rabeprazole"),
    "rabies immunoglobulin": ("J06BB05", "rabies immunoglobulin"),
    "rabies vaccine": ("J07BG01", "rabies, inactivated, whole virus"),
    "ramipril": ("C09AA05", "ramipril"), "ranitidine": ("A02BA02", "ranitidine"),
    "rosuvastatin": ("C10AA07", "rosuvastatin"), "salbutamol": ("R03AC02", "salbutamol"),
    "sertraline": ("N06AB06", "sertraline"), "sildenafil": ("G04BE03", "sildenafil"),
    "simvastatin": ("C10AA01", "simvastatin"),
    "sodium valproate": ("N03AG01", "valproic acid"),
    "spironolactone": ("C03DA01", "spironolactone"),
    "sulfadoxine-pyrimethamine": ("P01BD51", "pyrimethamine, combinations"),
    "sumatriptan": ("N02CC01", "sumatriptan"), "telmisartan": ("C09CA07", "telmisartan"),
    "hydrochlorothiazide+telmisartan": ("C09DA07", "telmisartan and diuretics"),
    "tinidazole": ("P01AB02", "tinidazole"), "tizanidine": ("M03BX02", "tizanidine"),
    "tramadol": ("N02AX02", "tramadol"), "warfarin": ("B01AA03", "warfarin"),
    "xylometazoline": ("R01AA07", "xylometazoline"), "zolpidem": ("N05CF02", "zolpidem"),
}

# LOINC by (analyte as the lab table names it); glucose also by the test it was measured in.
_LOINC: dict[str, tuple[str, str]] = {
    "haemoglobin": ("718-7", "Hemoglobin [Mass/volume] in Blood"),
    "total leucocyte count": ("6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
    "platelet count": ("777-3", "Platelets [#/volume] in Blood by Automated count"),
    "glucose": ("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
    "hba1c": ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
    "total cholesterol": ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),
    "hdl cholesterol": ("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma"),
    "triglycerides": ("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma"),
    "tsh": ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"),
    "free t4": ("3024-7", "Thyroxine (T4) free [Mass/volume] in Serum or Plasma"),
    "creatinine": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    "urea": ("3091-6", "Urea [Mass/volume] in Serum or Plasma"),
    "sodium": ("2951-2", "Sodium [Moles/volume] in Serum or Plasma"),
    "potassium": ("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
    "alt (sgpt)": ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum "
                             "or Plasma"),
    "ast (sgot)": ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in "
                             "Serum or Plasma"),
    "albumin": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    "alkaline phosphatase": ("6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in "
                                       "Serum or Plasma"),
    "total bilirubin": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma"),
    "esr": ("30341-2", "Erythrocyte sedimentation rate"),
    "crp": ("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma"),
    "ferritin": ("2276-4", "Ferritin [Mass/volume] in Serum or Plasma"),
    "vitamin b12": ("2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma"),
    "25(oh)d": ("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum "
                           "or Plasma"),
    "uric acid": ("3084-1", "Urate [Mass/volume] in Serum or Plasma"),
    "inr": ("6301-6", "INR in Platelet poor plasma by Coagulation assay"),
}
_GLUCOSE_BY_TEST = {
    "fasting-plasma-glucose": ("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"),
}

# The lab table's unit spellings in UCUM (units with no UCUM form keep their text only).
_UCUM = {"g/dL": "g/dL", "mg/dL": "mg/dL", "%": "%", "mIU/L": "m[IU]/L", "ng/dL": "ng/dL",
         "10^3/uL": "10*3/uL", "mL/min/1.73m2": "mL/min/{1.73_m2}", "mmol/L": "mmol/L",
         "U/L": "U/L", "mm/h": "mm/h", "mg/L": "mg/L", "ng/mL": "ng/mL", "pg/mL": "pg/mL",
         "CFU/mL": "{CFU}/mL"}

# SNOMED CT disorders for long-term conditions as patients and doctors write them.
_SNOMED_CONDITIONS: dict[str, tuple[str, str]] = {
    "diabetes": ("73211009", "Diabetes mellitus"),
    "diabetes mellitus": ("73211009", "Diabetes mellitus"),
    "type 2 diabetes": ("44054006", "Diabetes mellitus type 2"),
    "type 2 diabetes mellitus": ("44054006", "Diabetes mellitus type 2"),
    "type 1 diabetes": ("46635009", "Diabetes mellitus type 1"),
    "hypertension": ("38341003", "Hypertensive disorder, systemic arterial"),
    "high blood pressure": ("38341003", "Hypertensive disorder, systemic arterial"),
    "asthma": ("195967001", "Asthma"),
    "hypothyroidism": ("40930008", "Hypothyroidism"),
}


@dataclass(frozen=True)
class Code:
    """One coding: system, code and its display."""

    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        """The FHIR ``Coding``."""
        return {"system": self.system, "code": self.code, "display": self.display}


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9()+ -]", " ", text.lower()).split())


def medicine(name: str) -> Code | None:
    """The ATC code of a medicine as written (a brand, a generic, with a strength): the
    medicine table's own when it gives exactly one, else this module's."""
    found = load_medicines().lookup(name)
    if found is None:
        return None
    listed = tuple(getattr(found, "atc", ()) or ())
    if len(listed) == 1:
        return Code(ATC, str(listed[0]), found.generic)
    entry = _ATC.get(found.generic) if not listed else None
    return Code(ATC, *entry) if entry else None


def is_medicine(name: str) -> bool:
    """Whether ``name`` is a medicine or a drug allergy class the table knows."""
    table = load_medicines()
    return table.lookup(name) is not None or table.allergy_group(name) is not None


def analyte(name: str, test_code: str | None = None) -> Code | None:
    """The LOINC code of a lab analyte (``glucose`` fasting when measured in that test)."""
    key = _key(name)
    entry = (_GLUCOSE_BY_TEST.get(test_code or "") if key == "glucose" else None) \
        or _LOINC.get(key)
    return Code(LOINC, *entry) if entry else None


def condition(text: str) -> Code | None:
    """The SNOMED CT code of a long-term condition written in plain words."""
    entry = _SNOMED_CONDITIONS.get(_key(text))
    return Code(SNOMED, *entry) if entry else None


def ucum(unit: str) -> str | None:
    """The UCUM form of a unit as the lab table spells it."""
    return _UCUM.get(unit)
