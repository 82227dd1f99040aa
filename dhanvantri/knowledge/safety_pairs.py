"""Checks across prescription lines: INTERACTION, DUPLICATE_THERAPY and combined daily doses.

New medicines are checked against each other and against what the patient already takes;
current medicines are not checked against each other (that is not this prescription's doing).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dhanvantri.knowledge.interactions import InteractionTable
from dhanvantri.knowledge.medicines import Medicine, MedicineTable
from dhanvantri.knowledge.safety_dose import COUNT_UNITS, daily_amount, resolve_dose
from dhanvantri.knowledge.safety_input import MedicationOrder
from dhanvantri.knowledge.safety_issue import SafetyIssue

# Classes where two members together are usual practice (a long-acting nitrate plus a
# sublingual one for attacks), so sharing the class alone is not flagged.
INTENDED_CLASS_PAIRS = frozenset({"nitrate"})


@dataclass(frozen=True, slots=True)
class Item:
    """A resolved medicine: a new order, or one the patient already takes (``order`` None)."""

    name: str
    med: Medicine
    order: MedicationOrder | None = None

    @property
    def current(self) -> bool:
        """True for a medicine the patient already takes."""
        return self.order is None


def check_pairs(new: list[Item], current: list[Item],
                interactions: InteractionTable) -> list[SafetyIssue]:
    """Interaction and duplicate issues for every new-new and new-current pair."""
    pairs = [(a, b) for i, a in enumerate(new) for b in new[i + 1:]]
    pairs += [(a, b) for a in new for b in current]
    issues = []
    for first, second in pairs:
        issues += _duplicate(first, second)
        a, b = first.med.ingredients, second.med.ingredients
        # When one product contains the other (Pan-D and domperidone) the duplicate says it
        # all; an "interaction" of a medicine with itself would only add noise.
        if not (a <= b or b <= a):
            issues += _interaction(first, second, interactions)
    return issues


def _label(first: Item, second: Item) -> str:
    return f"{first.name} + {second.name}"


def _with(second: Item) -> str:
    return f"{second.name} (already taken)" if second.current else second.name


def _duplicate(first: Item, second: Item) -> list[SafetyIssue]:
    a, b = first.med, second.med
    if a.generic == b.generic:
        why = f"{first.name} and {_with(second)} are the same medicine ({a.generic})"
    elif shared := a.ingredients & b.ingredients:
        why = (f"{first.name} and {_with(second)} both contain "
               f"{', '.join(sorted(shared))}")
    elif classes := [c for c in a.classes if c in b.classes and c not in INTENDED_CLASS_PAIRS]:
        why = f"{first.name} and {_with(second)} are both {classes[0]} medicines"
    else:
        return []
    return [SafetyIssue("DUPLICATE_THERAPY", "warn", _label(first, second), why)]


def _interaction(first: Item, second: Item, table: InteractionTable) -> list[SafetyIssue]:
    found = table.between(first.med, second.med)
    if found is None:
        return []
    message = (f"{first.med.generic} with {second.med.generic}"
               f"{' (already taken)' if second.current else ''} - {found.level}: "
               f"{found.effect} {found.advice}")
    return [SafetyIssue("INTERACTION", found.severity, _label(first, second), message)]


def check_combined_dose(new: list[Item], table: MedicineTable) -> list[SafetyIssue]:
    """A generic given in several lines (e.g. Dolo plus Combiflam) against its daily maximum."""
    totals: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for item in new:
        assert item.order is not None
        for generic, mg_a_day in _ingredient_mg_per_day(item.order, item.med):
            totals[generic].append((item.name, mg_a_day))
    issues = []
    for generic, parts in totals.items():
        ingredient = table.get(generic)
        form = ingredient.dose_form("mg") if ingredient else None
        if len(parts) < 2 or form is None or form.unit != "mg" or form.max_daily is None:
            continue
        total = sum(mg for _, mg in parts)
        if total > form.max_daily + 1e-9:
            names = " + ".join(name for name, _ in parts)
            issues.append(SafetyIssue(
                "DOSE_RANGE", "block", names,
                f"together these give {total:g} mg of {generic} a day, above its maximum daily "
                f"dose of {form.max_daily:g} mg"))
    return issues


def _ingredient_mg_per_day(order: MedicationOrder, med: Medicine) -> list[tuple[str, float]]:
    resolved = resolve_dose(order, med)
    if resolved is None:
        return []
    form, amount, _ = resolved
    amount, per_day = daily_amount(order, form, amount)
    if not med.components:
        return [(med.generic, amount * per_day)] if form.unit == "mg" else []
    if form.unit not in COUNT_UNITS:
        return []
    return [(name, amount * strength * per_day) for name, strength in med.components
            if strength is not None]
