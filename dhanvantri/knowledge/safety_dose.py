"""DOSE_RANGE: single, daily and weekly limits, with children's age, weight and per-kg limits.

The daily dose is the dose times administrations per day; an SOS (as-needed) order counts as
the most administrations the table allows in a day. Children (below the medicine's paediatric
age) are held to the lowest of the adult limit, their age band, their weight band and the
per-kg limit for their weight. Per-kg limits get 10% headroom because doses are rounded to the
strengths that exist.

A count of tablets or capsules of a single medicine is converted with the strength in the
written name, as Indian prescriptions put it ("Dolo 650, 1 tab TDS" is 650 mg; "Uprise D3 60K"
is 60,000 IU), and so is a combination dosed by its total mass ("Augmentin 625, 1 tab BD").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dhanvantri.knowledge.medicines import DoseForm, Medicine
from dhanvantri.knowledge.safety_input import MedicationOrder, PatientContext
from dhanvantri.knowledge.safety_issue import SEVERITY_RANK, SafetyIssue

PER_KG_HEADROOM = 1.1
COUNT_UNITS = frozenset({"tablet", "capsule"})
# A number standing alone in a name, not part of a word such as "D3"; one run into a name of
# three letters or more ("Augmentin625") is a strength written without its space.
_NAME_STRENGTH = re.compile(r"(?:(?<![A-Za-z\d.])|(?<=[A-Za-z]{3}))(\d+(?:\.\d+)?)\s*(k\b)?",
                            re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Limit:
    """A ceiling and where it comes from, for the message."""

    value: float
    basis: str
    severity: str = "block"


def strength_in_name(name: str) -> float | None:
    """The last number in a product name (``"Dolo 650"`` -> 650, ``"D3 60K"`` -> 60000)."""
    found = _NAME_STRENGTH.findall(name)
    if not found:
        return None
    number, thousands = found[-1]
    return float(number) * (1000 if thousands else 1)


def resolve_dose(order: MedicationOrder, med: Medicine) -> tuple[DoseForm, float, str] | None:
    """The dose form an order refers to, its dose in that form's unit, and a note on how.

    None when the dose cannot be compared with any form of the medicine.
    """
    form = med.dose_form(order.dose_unit)
    if form is not None:
        return form, float(form.convert(order.dose_amount, order.dose_unit) or 0.0), ""
    strength = strength_in_name(order.name)
    # A combination dosed by its total mass ("Augmentin 625": 500 + 125 mg) carries that total in
    # its name; one whose components have their own strengths ("Telma AM 40") does not.
    by_total = not any(mg for _, mg in med.components)
    if order.dose_unit in COUNT_UNITS and strength and by_total:
        form = next((f for f in med.doses if f.unit in ("mg", "mcg", "IU")), None)
        if form is not None:
            note = f" ({strength:g} {form.unit} per {order.dose_unit} from the name)"
            return form, order.dose_amount * strength, note
    return None


def daily_amount(order: MedicationOrder, form: DoseForm, amount: float) -> tuple[float, float]:
    """``(dose, administrations per day)`` for an order whose dose is ``amount`` of ``form``."""
    per_day = order.times_per_day
    if per_day is None:
        per_day = form.times_per_day_when_needed()
    return amount, per_day


def check_dose(order: MedicationOrder, med: Medicine, patient: PatientContext) -> list[SafetyIssue]:
    """DOSE_RANGE issues for one order (an empty list when the dose is within limits)."""
    resolved = resolve_dose(order, med)
    if resolved is None:
        units = ", ".join(sorted({f.unit for f in med.doses})) or "none"
        return [_issue("warn", order, f"a dose in '{order.dose_unit}' cannot be checked for "
                       f"{med.generic}; state it in {units}")]
    form, amount, note = resolved
    amount, per_day = daily_amount(order, form, amount)
    child = patient.age_years < med.paediatric_age
    singles, dailies = _limits(form, patient, child)
    if not singles and not dailies and form.max_weekly is None:
        return []  # e.g. topical applications and ORS: no ceiling in the table
    unit = form.unit
    issues = []
    single_cap = _exceeded(singles, amount)
    if single_cap:
        issues.append(_issue(single_cap.severity, order,
                             f"{med.generic} {amount:g} {unit} per dose is above "
                             f"the maximum single dose of {single_cap.value:g} {unit} "
                             f"({single_cap.basis}){note}"))
    daily = amount * per_day
    daily_cap = _exceeded(dailies, daily)
    if daily_cap:
        issues.append(_issue(daily_cap.severity, order, f"{med.generic} {daily:g} {unit} a day "
                             f"({amount:g} {unit} {order.frequency}) is above the maximum daily "
                             f"dose of {daily_cap.value:g} {unit} ({daily_cap.basis}){note}"))
    if form.max_weekly is not None and daily * 7 > form.max_weekly + 1e-9:
        issues.append(_issue("block", order, f"{med.generic} {daily * 7:g} {unit} a week is above "
                             f"the weekly maximum of {form.max_weekly:g} {unit}; it is taken "
                             "once a week (frequency WEEKLY)"))
    if (not child and form.single_min is not None and amount < form.single_min - 1e-9
            and order.frequency not in ("WEEKLY",)):
        issues.append(_issue("warn", order, f"{med.generic} {amount:g} {unit} per dose is below "
                             f"the usual adult minimum of {form.single_min:g} {unit}"))
    if _needs_weight(form, patient, child):
        issues.append(_issue("warn", order, f"weight is needed to check a child's dose of "
                             f"{med.generic} ({form.per_kg_daily:g} {unit}/kg/day maximum)"))
    return issues


def _limits(
    form: DoseForm, patient: PatientContext, child: bool
) -> tuple[list[Limit], list[Limit]]:
    singles: list[Limit] = []
    dailies: list[Limit] = []
    if form.single_max is not None:
        singles.append(Limit(form.single_max, "adult maximum"))
    if form.max_daily is not None:
        dailies.append(Limit(form.max_daily, "adult maximum"))
    if child:
        band = next((b for b in form.child_bands if patient.age_years < b.below), None)
        if band is not None:
            _add(singles, dailies, band.single, band.daily, f"age under {band.below:g} years")
    weight = patient.weight_kg
    if weight is not None:
        band = next((b for b in form.weight_bands if weight < b.below), None)
        if band is not None:
            _add(singles, dailies, band.single, band.daily, f"weight under {band.below:g} kg")
        if child or form.per_kg_all_ages:
            allowance = f"for {weight:g} kg, with rounding allowance"
            severity = "block" if child else form.per_kg_adult_severity
            if form.per_kg_single is not None:
                singles.append(Limit(round(form.per_kg_single * weight * PER_KG_HEADROOM, 3),
                                     f"{form.per_kg_single:g} {form.unit}/kg {allowance}",
                                     severity))
            if form.per_kg_daily is not None:
                dailies.append(Limit(round(form.per_kg_daily * weight * PER_KG_HEADROOM, 3),
                                     f"{form.per_kg_daily:g} {form.unit}/kg/day {allowance}",
                                     severity))
    return singles, dailies


def _exceeded(limits: list[Limit], amount: float) -> Limit | None:
    """The lowest limit ``amount`` exceeds among the most severe ones it exceeds, or None."""
    over = [limit for limit in limits if amount > limit.value + 1e-9]
    if not over:
        return None
    return min(over, key=lambda x: (-SEVERITY_RANK[x.severity], x.value))


def _add(singles: list[Limit], dailies: list[Limit], single: float | None,
         daily: float | None, basis: str) -> None:
    if single is not None:
        singles.append(Limit(single, basis))
    if daily is not None:
        dailies.append(Limit(daily, basis))


def _needs_weight(form: DoseForm, patient: PatientContext, child: bool) -> bool:
    """A child's per-kg-dosed medicine with no weight and no age band to fall back on."""
    if not child or patient.weight_kg is not None or form.per_kg_daily is None:
        return False
    return not any(patient.age_years < b.below for b in form.child_bands)


def _issue(severity: str, order: MedicationOrder, message: str) -> SafetyIssue:
    return SafetyIssue("DOSE_RANGE", severity, order.name, message)
