"""The prescription safety gate: every draft prescription passes here before a doctor signs it.

:func:`check_prescription` resolves each line (brand or generic) against the medicine table and
reports issues with a code and a severity:

* ``CONTROLLED_SUBSTANCE`` (block): Schedule X or NDPS, never by teleconsultation.
* ``ALLERGY`` (block; warn or info for cross-reacting classes). An allergy to one member of a
  class whose labels contra-indicate the whole class (penicillins, NSAIDs, fluoroquinolones,
  nitroimidazoles) blocks every member, combinations included.
* ``INTERACTION`` (block, warn or info by the pair's level) among the new medicines and with
  the patient's current medicines.
* ``DOSE_RANGE`` (block above a maximum; warn below the adult minimum or when it cannot be
  checked): single, daily and weekly limits, children's age, weight and per-kg limits, and one
  generic given in several lines.
* ``CONTRAINDICATION`` (by the table's severity): pregnancy, breastfeeding, age, weight,
  kidney or liver impairment, older age (warn where the Beers Criteria say avoid). A kidney
  caution that blocks below an eGFR warns on a bare impairment flag and blocks when the
  impairment is known to be severe.
* ``DUPLICATE_THERAPY`` (warn): the same generic or therapeutic class twice, brand and generic
  of one drug included.
* ``UNKNOWN_DRUG`` (warn for a prescribed name, info for a current medicine), with the
  closest known names when the name looks like a misspelling. A misspelling close enough to be
  dispensed as a known medicine ("Alprazolum") is also checked as that medicine for the
  controlled-substance, allergy and anti-cancer rules, so a typo cannot slip a prohibited drug
  past them.
* ``TELECONSULTATION`` (block): a List A medicine at a first audio or text consultation, or a
  List B one at any first consultation (Telemedicine Practice Guidelines 2020); only when the
  request states the consultation. An anti-cancer medicine, on the guidelines' prohibited list
  but not a controlled substance, is blocked whether or not the request states the
  consultation, unless it is in person.

The verdict is the worst severity: ``block``, ``warn`` or ``ok`` (info alone is ``ok``).

Example::

    patient, orders = parse_safety_request(json.loads(text))
    result = check_prescription(patient, orders)
    result.verdict, [i.code for i in result.issues]
"""

from __future__ import annotations

from dataclasses import replace

from dhanvantri.knowledge.interactions import InteractionTable, load_interactions
from dhanvantri.knowledge.medicines import MedicineTable, load_medicines
from dhanvantri.knowledge.safety_dose import check_dose
from dhanvantri.knowledge.safety_input import (
    Consultation,
    MedicationOrder,
    PatientContext,
    SafetyInputError,
    parse_safety_request,
)
from dhanvantri.knowledge.safety_issue import CODES, SafetyIssue, SafetyResult
from dhanvantri.knowledge.safety_pairs import Item, check_combined_dose, check_pairs
from dhanvantri.knowledge.safety_rules import (
    check_allergy,
    check_contraindications,
    check_controlled,
)
from dhanvantri.knowledge.schedules import check_teleconsultation

# Similarity (difflib ratio, 0 to 1) above which an unknown name is one or two letters from a
# known one ("Alprazolum", "Amoxycilin"): the look-alike/sound-alike errors pharmacists misread.
LOOK_ALIKE_CUTOFF = 0.85

__all__ = [
    "CODES",
    "Consultation",
    "MedicationOrder",
    "PatientContext",
    "SafetyInputError",
    "SafetyIssue",
    "SafetyResult",
    "check_prescription",
    "parse_safety_request",
]


def check_prescription(
    patient: PatientContext,
    medications: list[MedicationOrder],
    *,
    medicines: MedicineTable | None = None,
    interactions: InteractionTable | None = None,
) -> SafetyResult:
    """Check a draft prescription for one patient.

    Args:
        patient: Age, sex, weight, pregnancy, allergies and current medicines.
        medications: The prescription lines.
        medicines: Table to use (default: the shipped one).
        interactions: Interaction table to use (default: the shipped one).

    Returns:
        The verdict and the issues, worst first.
    """
    table = medicines or load_medicines()
    pairs_table = interactions or load_interactions()
    issues: list[SafetyIssue] = []
    new: list[Item] = []
    for order in medications:
        med = table.lookup(order.name)
        if med is None:
            issues.append(_unknown(order.name, table))
            issues += _look_alike(order, patient, table)
            continue
        new.append(Item(order.name, med, order))
        issues += check_controlled(order, med)
        issues += check_teleconsultation(order, med, patient.consultation)
        issues += check_allergy(order, med, patient, table)
        issues += check_contraindications(order, med, patient)
        issues += check_dose(order, med, patient)
    current: list[Item] = []
    for name in patient.current_medications:
        med = table.lookup(name)
        if med is None:
            issues.append(SafetyIssue("UNKNOWN_DRUG", "info", name,
                                      f"current medicine {name} is not in the medicine table: "
                                      "interactions with it were not checked"))
        else:
            current.append(Item(name, med))
    issues += check_pairs(new, current, pairs_table)
    issues += check_combined_dose(new, table)
    return SafetyResult.from_issues(issues)


def _look_alike(order: MedicationOrder, patient: PatientContext,
                table: MedicineTable) -> list[SafetyIssue]:
    """Controlled, allergy and prohibited-by-teleconsultation issues of the medicine an unknown
    name would be dispensed as."""
    found = table.closest(order.name)
    if found is None or found[1] < LOOK_ALIKE_CUTOFF:
        return []
    med = found[0]
    return [replace(issue, message=f"{order.name} reads as {med.generic}, which a pharmacist "
                                   f"may dispense: {issue.message}")
            for issue in (*check_controlled(order, med),
                          *check_allergy(order, med, patient, table),
                          *(check_teleconsultation(order, med, patient.consultation)
                            if med.tpg_list == "prohibited" else ()))]


def _unknown(name: str, table: MedicineTable) -> SafetyIssue:
    close = table.suggest(name)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return SafetyIssue("UNKNOWN_DRUG", "warn", name,
                       f"{name} is not in the medicine table{hint}: check its dose, "
                       "interactions and allergies by hand")
