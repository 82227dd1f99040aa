"""The medicine table: generics, Indian brand names, classes, schedules and dose limits.

Loaded once from ``data/medicines.json``. Names resolve through :meth:`MedicineTable.lookup`,
which accepts a generic, a synonym or a brand in any case and spacing, with or without a
strength or dosage form (``"Dolo 650 tab"``, ``"PAN-40"``, ``"paracetamol + ibuprofen"``).

Fixed-dose combinations list their ``components``; their classes, allergy groups, tags,
pregnancy and age cautions are the union of their components' so that every check sees them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from dhanvantri.knowledge.brands import NameIndex, name_key

SEVERITIES = ("info", "warn", "block")
PREGNANCY_RISKS = ("compatible", "caution", "avoid", "contraindicated")
SCHEDULES = ("OTC", "H", "H1", "X", "NDPS")
TPG_LISTS = ("O", "A", "B", "prohibited")
CONTROLLED_SCHEDULES = frozenset({"X", "NDPS"})
NLEM = "NLEM-2022"

# Spoken and written unit spellings -> the unit names used in the table.
UNIT_ALIASES = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg",
    "g": "g", "gm": "g", "gram": "g", "grams": "g",
    "mcg": "mcg", "ug": "mcg", "µg": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "iu": "IU", "ml": "ml", "millilitre": "ml", "milliliter": "ml", "millilitres": "ml",
    "tablet": "tablet", "tablets": "tablet", "tab": "tablet", "tabs": "tablet",
    "capsule": "capsule", "capsules": "capsule", "cap": "capsule", "caps": "capsule",
    "sachet": "sachet", "sachets": "sachet", "puff": "puff", "puffs": "puff",
    "drop": "drop", "drops": "drop", "application": "application", "applications": "application",
    "spray": "spray", "sprays": "spray",
}
_MASS_IN_MG = {"mg": 1.0, "g": 1000.0, "mcg": 0.001}

def canonical_unit(unit: str) -> str | None:
    """The table's name for a unit spelling (``"Tabs"`` -> ``"tablet"``), or None if unknown."""
    return UNIT_ALIASES.get(unit.strip().lower())


@dataclass(frozen=True, slots=True)
class Band:
    """A dose ceiling that applies below an age (years) or a weight (kg)."""

    below: float
    single: float | None
    daily: float | None


@dataclass(frozen=True, slots=True)
class DoseForm:
    """Dose limits for one route and unit; limits are None where the table sets none."""

    route: str
    unit: str
    single_min: float | None = None
    single_max: float | None = None
    max_daily: float | None = None
    max_weekly: float | None = None
    sos_per_day: int | None = None
    per_kg_single: float | None = None
    per_kg_daily: float | None = None
    per_kg_all_ages: bool = False
    # How an adult's dose above a per-kg figure is reported: "block", or "warn" where the
    # per-kg figure is a long-term threshold rather than a label maximum.
    per_kg_adult_severity: str = "block"
    equivalents: dict[str, float] = field(default_factory=dict)
    child_bands: tuple[Band, ...] = ()
    weight_bands: tuple[Band, ...] = ()

    def convert(self, amount: float, unit: str) -> float | None:
        """``amount`` of ``unit`` in this form's unit, or None when they are not comparable."""
        if unit == self.unit:
            return amount
        if unit in self.equivalents:
            return amount * self.equivalents[unit]
        if unit in _MASS_IN_MG and self.unit in _MASS_IN_MG:
            return amount * _MASS_IN_MG[unit] / _MASS_IN_MG[self.unit]
        return None

    def times_per_day_when_needed(self) -> float:
        """How many doses an SOS (as-needed) order can add up to in a day."""
        if self.sos_per_day:
            return float(self.sos_per_day)
        if self.max_daily and self.single_max:
            return max(1.0, self.max_daily // self.single_max)
        return 1.0


@dataclass(frozen=True, slots=True)
class Caution:
    """A threshold rule: below an age (years) or weight (kg) the medicine needs care."""

    below: float
    severity: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrganCaution:
    """What kidney or liver impairment means for a medicine, and how loudly to say it."""

    severity: str
    note: str
    # True when the caution holds at any degree of impairment; otherwise it names a threshold
    # (an eGFR) that a bare "impaired" flag cannot say is crossed.
    any_degree: bool = False


@dataclass(frozen=True, slots=True)
class AllergyGroup:
    """A drug-allergy class and the classes that cross-react with it, with the severity.

    ``class_wide`` marks a class whose labels contra-indicate every member after a reaction to
    any one (penicillins, NSAIDs): an allergy to one member is an allergy to the class.
    """

    name: str
    synonyms: tuple[str, ...]
    cross_reactive: dict[str, str]
    class_wide: bool = False


@dataclass(frozen=True, slots=True)
class Medicine:
    """One generic (or fixed-dose combination) and the facts the safety gate checks."""

    generic: str
    synonyms: tuple[str, ...]
    brands: tuple[str, ...]
    classes: tuple[str, ...]
    allergy_groups: tuple[str, ...]
    tags: tuple[str, ...]
    schedule: str
    tpg_list: str
    doses: tuple[DoseForm, ...]
    components: tuple[tuple[str, float | None], ...] = ()
    paediatric_age: float = 12.0
    age_rules: tuple[Caution, ...] = ()
    weight_rules: tuple[Caution, ...] = ()
    pregnancy_risk: str = "caution"
    pregnancy_note: str = ""
    contraindications: tuple[str, ...] = ()
    elderly: str = ""
    # "warn" where the AGS Beers Criteria say to avoid the medicine in older adults.
    elderly_severity: str = "info"
    sources: tuple[str, ...] = ()
    atc: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    lactation_risk: str = "caution"
    lactation_note: str = ""
    renal: OrganCaution | None = None
    hepatic: OrganCaution | None = None

    @property
    def controlled(self) -> bool:
        """Schedule X or NDPS: never prescribed by teleconsultation (TPG 2020).

        The guidelines' prohibited list also names anti-cancer medicines, which are on
        Schedule H: ``tpg_list == "prohibited"`` without this is that prohibition, not a
        controlled substance.
        """
        return self.schedule in CONTROLLED_SCHEDULES

    @property
    def nlem(self) -> bool:
        """On India's National List of Essential Medicines 2022 (the entry cites it)."""
        return NLEM in self.sources

    @property
    def ingredients(self) -> frozenset[str]:
        """The generics this product contains (itself, or its components)."""
        if self.components:
            return frozenset(name for name, _ in self.components)
        return frozenset({self.generic})

    def dose_form(self, unit: str) -> DoseForm | None:
        """The dose form a dose in ``unit`` refers to: same unit first, then convertible."""
        for form in self.doses:
            if form.unit == unit:
                return form
        for form in self.doses:
            if form.convert(1.0, unit) is not None:
                return form
        return None


class MedicineTable:
    """All medicines with name resolution; build it with :func:`load_medicines`."""

    def __init__(
        self,
        medicines: list[Medicine],
        allergy_groups: dict[str, AllergyGroup],
        sources: dict[str, str],
    ) -> None:
        self._by_generic = {m.generic: m for m in medicines}
        self.allergy_groups = allergy_groups
        self.sources = sources
        self._names: NameIndex[Medicine] = NameIndex(lambda m: m.generic)
        for med in medicines:
            for name in (med.generic, *med.synonyms, *med.brands):
                self._names.add(name, med)
            if med.components:
                self._names.add_combination((name for name, _ in med.components), med)
        self._group_index = {
            name_key(s): g.name for g in allergy_groups.values() for s in (g.name, *g.synonyms)
        }

    def __iter__(self) -> Iterator[Medicine]:
        return iter(self._by_generic.values())

    def __len__(self) -> int:
        return len(self._by_generic)

    def get(self, generic: str) -> Medicine | None:
        """The medicine with exactly this generic name."""
        return self._by_generic.get(generic)

    def lookup(self, name: str) -> Medicine | None:
        """Resolve a generic, synonym or brand name (any case, spacing, strength or form).

        Args:
            name: As written or spoken, e.g. ``"Crocin"``, ``"dolo 650 tab"``,
                ``"Amoxicillin + Clavulanic acid"``.

        Returns:
            The medicine, or None when the name is not in the table.
        """
        return self._names.lookup(name)

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Known names spelled most like an unknown ``name`` (``"Augmentine"`` -> Augmentin)."""
        return self._names.suggest(name, limit)

    def closest(self, name: str) -> tuple[Medicine, float] | None:
        """The medicine an unknown ``name`` is most likely a misspelling of, and how alike."""
        return self._names.closest(name)

    def allergy_group(self, name: str) -> str | None:
        """The allergy class a patient's allergy names (``"sulpha drugs"`` -> ``"sulfonamide"``)."""
        return self._group_index.get(name_key(name))


@cache
def load_medicines() -> MedicineTable:
    """The shipped medicine table (parsed once per process)."""
    path = resources.files("dhanvantri.knowledge") / "data" / "medicines.json"
    return parse_medicines(json.loads(path.read_text("utf-8")))


def parse_medicines(raw: dict[str, Any]) -> MedicineTable:
    """Build a table from the JSON structure of ``medicines.json``; raises ValueError if bad."""
    groups = {
        name: AllergyGroup(name, tuple(g.get("synonyms", ())),
                           dict(g.get("cross_reactive", {})), bool(g.get("class_wide")))
        for name, g in raw["allergy_groups"].items()
    }
    sources = dict(raw["sources"])
    singles = {e["generic"]: _medicine(e, sources, groups) for e in raw["medicines"]
               if "components" not in e}
    combos = [_combination(e, singles, sources, groups) for e in raw["medicines"]
              if "components" in e]
    return MedicineTable([*singles.values(), *combos], groups, sources)


def _medicine(e: dict[str, Any], sources: dict[str, str],
              groups: dict[str, AllergyGroup]) -> Medicine:
    where = f"medicines[{e.get('generic')!r}]"
    try:
        children = e.get("children", {})
        pregnancy = e.get("pregnancy", {})
        med = Medicine(
            generic=e["generic"],
            synonyms=tuple(e.get("synonyms", ())),
            brands=tuple(e.get("brands", ())),
            classes=tuple(e.get("classes", ())),
            allergy_groups=tuple(e.get("allergy_groups", ())),
            tags=tuple(e.get("tags", ())),
            schedule=e["schedule"],
            tpg_list=e["tpg_list"],
            doses=tuple(_dose_form(d) for d in e.get("doses", ())),
            components=tuple((k, v) for k, v in e.get("components", {}).items()),
            paediatric_age=float(children.get("paediatric_age", 12)),
            age_rules=tuple(Caution(r["below"], r["severity"], r["reason"])
                            for r in children.get("age_rules", ())),
            weight_rules=tuple(Caution(r["below_kg"], r["severity"], r["reason"])
                               for r in e.get("weight_rules", ())),
            pregnancy_risk=pregnancy.get("risk", "caution"),
            pregnancy_note=pregnancy.get("note", ""),
            contraindications=tuple(e.get("contraindications", ())),
            elderly=e.get("elderly", ""),
            elderly_severity=e.get("elderly_severity", "info"),
            sources=tuple(e.get("sources", ())),
            atc=_strings(e.get("atc", ())),
            forms=tuple(e.get("forms", ())),
            lactation_risk=e.get("lactation", {}).get("risk", "caution"),
            lactation_note=e.get("lactation", {}).get("note", ""),
            renal=_organ(e.get("renal")),
            hepatic=_organ(e.get("hepatic")),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}: missing or malformed field {exc}") from exc
    _validate(med, where, sources, groups)
    return med


def _strings(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _organ(raw: dict[str, str] | None) -> OrganCaution | None:
    if not raw:
        return None
    return OrganCaution(raw["severity"], raw["note"], bool(raw.get("any_degree")))


def _dose_form(d: dict[str, Any]) -> DoseForm:
    single = d.get("single") or (None, None)
    unit = canonical_unit(d["unit"])
    if unit is None:
        raise ValueError(f"unknown unit {d['unit']!r}")
    per_kg = d.get("per_kg", {})
    return DoseForm(
        route=d.get("route", "oral"), unit=unit, single_min=single[0], single_max=single[1],
        max_daily=d.get("max_daily"), max_weekly=d.get("max_weekly"),
        sos_per_day=d.get("sos_per_day"), per_kg_single=per_kg.get("single"),
        per_kg_daily=per_kg.get("daily"), per_kg_all_ages=bool(d.get("per_kg_all_ages")),
        per_kg_adult_severity=d.get("per_kg_adult_severity", "block"),
        equivalents={canonical_unit(k) or k: v for k, v in d.get("equivalents", {}).items()},
        child_bands=tuple(Band(b["below_age"], b.get("single"), b.get("daily"))
                          for b in d.get("child_bands", ())),
        weight_bands=tuple(Band(b["below_kg"], b.get("single"), b.get("daily"))
                           for b in d.get("weight_bands", ())),
    )


def _combination(e: dict[str, Any], singles: dict[str, Medicine], sources: dict[str, str],
                 groups: dict[str, AllergyGroup]) -> Medicine:
    """A fixed-dose combination inherits its known components' cautions."""
    own = _medicine(e, sources, groups)
    parts = [singles[name] for name in e["components"] if name in singles]

    def union(attr: str) -> tuple[str, ...]:
        values = [*getattr(own, attr)]
        for part in parts:
            values += [v for v in getattr(part, attr) if v not in values]
        return tuple(values)

    risks = [own.pregnancy_risk if "pregnancy" in e else "compatible",
             *(p.pregnancy_risk for p in parts)]
    worst = max(risks, key=PREGNANCY_RISKS.index)
    nursing = max([own.lactation_risk if "lactation" in e else "compatible",
                   *(p.lactation_risk for p in parts)], key=PREGNANCY_RISKS.index)
    return Medicine(
        generic=own.generic, synonyms=own.synonyms, brands=own.brands,
        classes=union("classes"), allergy_groups=union("allergy_groups"), tags=union("tags"),
        schedule=own.schedule, tpg_list=own.tpg_list, doses=own.doses,
        components=own.components,
        paediatric_age=max([own.paediatric_age, *(p.paediatric_age for p in parts)]),
        age_rules=own.age_rules + tuple(r for p in parts for r in p.age_rules),
        weight_rules=own.weight_rules + tuple(r for p in parts for r in p.weight_rules),
        pregnancy_risk=worst,
        pregnancy_note=own.pregnancy_note if "pregnancy" in e else "; ".join(
            f"{p.generic}: {p.pregnancy_note}" for p in parts
            if p.pregnancy_risk == worst and p.pregnancy_note),
        contraindications=union("contraindications"),
        elderly="; ".join(x for x in (own.elderly, *(p.elderly for p in parts)) if x),
        elderly_severity=max([own.elderly_severity, *(p.elderly_severity for p in parts)],
                             key=SEVERITIES.index),
        # The components' references back the inherited cautions, but list membership is
        # the product's own: NLEM 2022 lists few fixed-dose combinations, so a combination
        # is on it only where its own entry cites it.
        sources=tuple(s for s in union("sources") if s in own.sources or s != NLEM),
        atc=own.atc, forms=own.forms,
        lactation_risk=nursing,
        lactation_note=own.lactation_note if "lactation" in e else "; ".join(
            f"{p.generic}: {p.lactation_note}" for p in parts
            if p.lactation_risk == nursing and p.lactation_note),
        renal=_worst_organ([own.renal, *(p.renal for p in parts)]),
        hepatic=_worst_organ([own.hepatic, *(p.hepatic for p in parts)]),
    )


def _worst_organ(cautions: list[OrganCaution | None]) -> OrganCaution | None:
    known = [c for c in cautions if c is not None]
    return max(known, key=lambda c: (SEVERITIES.index(c.severity), c.any_degree), default=None)


def _validate(med: Medicine, where: str, sources: dict[str, str],
              groups: dict[str, AllergyGroup]) -> None:
    problems = []
    if med.schedule not in SCHEDULES:
        problems.append(f"schedule {med.schedule!r}")
    if med.tpg_list not in TPG_LISTS:
        problems.append(f"tpg_list {med.tpg_list!r}")
    if med.pregnancy_risk not in PREGNANCY_RISKS:
        problems.append(f"pregnancy.risk {med.pregnancy_risk!r}")
    if med.lactation_risk not in PREGNANCY_RISKS:
        problems.append(f"lactation.risk {med.lactation_risk!r}")
    problems += [f"{organ} severity {c.severity!r}" for organ, c in
                 (("renal", med.renal), ("hepatic", med.hepatic))
                 if c is not None and c.severity not in SEVERITIES]
    if not med.sources or any(s not in sources for s in med.sources):
        problems.append(f"sources {med.sources!r}")
    problems += [f"allergy group {g!r}" for g in med.allergy_groups if g not in groups]
    if med.elderly_severity not in SEVERITIES:
        problems.append(f"elderly_severity {med.elderly_severity!r}")
    problems += [f"per_kg_adult_severity {f.per_kg_adult_severity!r}" for f in med.doses
                 if f.per_kg_adult_severity not in SEVERITIES]
    problems += [f"severity {r.severity!r}" for r in (*med.age_rules, *med.weight_rules)
                 if r.severity not in SEVERITIES]
    if problems:
        raise ValueError(f"{where}: invalid {', '.join(problems)}")
