"""Checks on one prescription line: CONTROLLED_SUBSTANCE, ALLERGY and CONTRAINDICATION."""

from __future__ import annotations

import re

from dhanvantri.knowledge.medicines import Caution, Medicine, MedicineTable, OrganCaution
from dhanvantri.knowledge.safety_input import MedicationOrder, PatientContext
from dhanvantri.knowledge.safety_issue import SEVERITY_RANK, SafetyIssue

ELDERLY_AGE = 65
PREGNANCY_SEVERITY = {"contraindicated": "block", "avoid": "warn", "caution": "info"}
# Breastfeeding uses the same scale; "caution" is left out because it would mark nearly every
# medicine and drown the few that matter.
LACTATION_SEVERITY = {"contraindicated": "block", "avoid": "warn"}
_ALLERGY_FILLER = re.compile(
    r"\b(allergy|allergies|allergic|to|intolerance|intolerant|sensitivity|hypersensitivity|"
    r"reaction|reactions|drugs?|antibiotics?)\b", re.IGNORECASE)


def check_controlled(order: MedicationOrder, med: Medicine) -> list[SafetyIssue]:
    """Schedule X and NDPS medicines are never prescribed by teleconsultation (TPG 2020)."""
    if not med.controlled:
        return []
    label = "an NDPS narcotic or psychotropic" if med.schedule == "NDPS" else "a Schedule X drug"
    return [SafetyIssue("CONTROLLED_SUBSTANCE", "block", order.name,
                        f"{med.generic} is {label}: it cannot be prescribed by teleconsultation "
                        "(Telemedicine Practice Guidelines 2020); refer for an in-person visit")]


def check_allergy(order: MedicationOrder, med: Medicine, patient: PatientContext,
                  table: MedicineTable) -> list[SafetyIssue]:
    """Allergies to this medicine, an ingredient, its class, or a cross-reacting class."""
    issues = []
    for allergy in patient.allergies:
        found = _allergy_match(allergy, med, table)
        if found:
            severity, why = found
            issues.append(SafetyIssue("ALLERGY", severity, order.name,
                                      f"patient reports an allergy to {allergy}: {why}"))
    return issues


def _allergy_match(allergy: str, med: Medicine, table: MedicineTable) -> tuple[str, str] | None:
    cleaned = _ALLERGY_FILLER.sub(" ", allergy).strip() or allergy
    group = table.allergy_group(cleaned) or table.allergy_group(allergy)
    if group is not None:
        if group in med.allergy_groups:
            return "block", f"{med.generic} belongs to the {group} class"
        return _cross_reaction(group, med, table)
    allergen = table.lookup(cleaned) or table.lookup(allergy)
    if allergen is None:
        return None  # not a medicine or class we know (e.g. food or dust)
    shared = med.ingredients & allergen.ingredients
    if shared:
        return "block", f"{med.generic} contains {', '.join(sorted(shared))}"
    common = [g for g in allergen.allergy_groups if g in med.allergy_groups]
    whole = [g for g in common if table.allergy_groups[g].class_wide]
    if whole:
        return "block", (f"{med.generic} is in the same {whole[0]} class as {allergen.generic}, "
                         f"and an allergy to one {whole[0]} contra-indicates the class")
    if common:
        return "warn", f"{med.generic} is in the same {common[0]} class as {allergen.generic}"
    best = None
    for g in allergen.allergy_groups:
        match = _cross_reaction(g, med, table)
        if match and (best is None or SEVERITY_RANK[match[0]] > SEVERITY_RANK[best[0]]):
            best = match
    return best


def _cross_reaction(group: str, med: Medicine, table: MedicineTable) -> tuple[str, str] | None:
    cross = table.allergy_groups[group].cross_reactive
    hits = [(cross[g], g) for g in med.allergy_groups if g in cross]
    if not hits:
        return None
    severity, other = max(hits, key=lambda h: SEVERITY_RANK[h[0]])
    return severity, f"{med.generic} ({other}) can cross-react with the {group} class"


def check_contraindications(order: MedicationOrder, med: Medicine,
                            patient: PatientContext) -> list[SafetyIssue]:
    """Pregnancy, the age and weight cautions of the table, and cautions in older people."""
    issues = []
    if patient.pregnant and med.pregnancy_risk in PREGNANCY_SEVERITY:
        note = f": {med.pregnancy_note}" if med.pregnancy_note else ""
        issues.append(SafetyIssue("CONTRAINDICATION", PREGNANCY_SEVERITY[med.pregnancy_risk],
                                  order.name, f"pregnancy ({med.pregnancy_risk}) with "
                                  f"{med.generic}{note}"))
    age_rule = _worst([r for r in med.age_rules if patient.age_years < r.below])
    if age_rule is not None:
        issues.append(SafetyIssue("CONTRAINDICATION", age_rule.severity, order.name,
                                  f"age {patient.age_years:g} years with {med.generic}: "
                                  f"{age_rule.reason}"))
    if patient.weight_kg is not None:
        weight_rule = _worst([r for r in med.weight_rules if patient.weight_kg < r.below])
        if weight_rule is not None:
            issues.append(SafetyIssue("CONTRAINDICATION", weight_rule.severity, order.name,
                                      f"weight {patient.weight_kg:g} kg with {med.generic}: "
                                      f"{weight_rule.reason}"))
    if patient.breastfeeding and med.lactation_risk in LACTATION_SEVERITY:
        note = f": {med.lactation_note}" if med.lactation_note else ""
        issues.append(SafetyIssue("CONTRAINDICATION", LACTATION_SEVERITY[med.lactation_risk],
                                  order.name, f"breastfeeding ({med.lactation_risk}) with "
                                  f"{med.generic}{note}"))
    for impaired, organ, caution, severe in (
            (patient.renal_impairment, "kidney", med.renal, patient.severe_renal_impairment),
            (patient.hepatic_impairment, "liver", med.hepatic, False)):
        if impaired and caution is not None:
            issues.append(_organ_issue(order, med, organ, caution, severe=severe))
    if patient.age_years >= ELDERLY_AGE and med.elderly:
        beers = (" (AGS Beers Criteria: avoid in older adults)"
                 if med.elderly_severity != "info" else "")
        issues.append(SafetyIssue("CONTRAINDICATION", med.elderly_severity, order.name,
                                  f"age {patient.age_years:g} years with {med.generic}: "
                                  f"{med.elderly}{beers}"))
    return issues


def _organ_issue(order: MedicationOrder, med: Medicine, organ: str,
                 caution: OrganCaution, *, severe: bool) -> SafetyIssue:
    """A kidney caution that blocks only below an eGFR warns on a bare impairment flag.

    Liver cautions keep their severity: the table words them for the impairment they name.
    """
    if organ == "kidney" and caution.severity == "block" and not (caution.any_degree or severe):
        return SafetyIssue("CONTRAINDICATION", "warn", order.name,
                           f"{organ} impairment with {med.generic}: {caution.note}; the degree "
                           "is not stated, so check it (eGFR) before prescribing")
    return SafetyIssue("CONTRAINDICATION", caution.severity, order.name,
                       f"{organ} impairment with {med.generic}: {caution.note}")


def _worst(rules: list[Caution]) -> Caution | None:
    """The most severe rule; among equals the lowest threshold (the most specific)."""
    if not rules:
        return None
    return max(rules, key=lambda r: (SEVERITY_RANK[r.severity], -r.below))
