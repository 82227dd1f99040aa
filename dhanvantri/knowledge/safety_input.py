"""The safety gate's input: the patient, the prescribed medicines, and strict parsing of both.

Malformed input raises :class:`SafetyInputError`, whose ``field`` names the offending path
(``medications[1].dose``) so the CLI and the HTTP layer can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dhanvantri.knowledge.medicines import UNIT_ALIASES, canonical_unit

# Administrations per day; None means "as needed" (SOS), resolved per medicine from the table.
FREQUENCIES: dict[str, float | None] = {
    "OD": 1, "BD": 2, "TDS": 3, "TID": 3, "QID": 4, "QDS": 4, "HS": 1, "SOS": None,
    "STAT": 1, "ONCE": 1, "Q4H": 6, "Q6H": 4, "Q8H": 3, "Q12H": 2, "5XDAY": 5, "WEEKLY": 1 / 7,
}
# Indian slot notation: morning-afternoon-night (optionally a fourth slot), 1 = a dose.
_SLOTS = re.compile(r"^[01](?:-[01]){2,3}$")
SEXES = ("male", "female", "other")
# How the consultation is held (Telemedicine Practice Guidelines 2020 set what each may prescribe).
CONSULTATION_MODES = ("video", "audio", "text", "in_person")
_DOSE = re.compile(r"^\s*(\d[\d,]*(?:\.\d+)?|\.\d+)\s*([^\d\s].*?)\s*$")


class SafetyInputError(ValueError):
    """A request field is missing or malformed; ``field`` is its path in the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Consultation:
    """The consultation a prescription comes from: first or follow-up, and its mode."""

    first: bool
    mode: str = "video"


@dataclass(frozen=True, slots=True)
class PatientContext:
    """What the gate needs to know about the patient."""

    age_years: float
    sex: str | None = None
    weight_kg: float | None = None
    pregnant: bool = False
    allergies: tuple[str, ...] = ()
    current_medications: tuple[str, ...] = ()
    breastfeeding: bool = False
    renal_impairment: bool = False
    # Known to be severe (eGFR below 30, CKD stage 4 or 5, dialysis): kidney cautions that
    # block below a threshold then block; a bare renal_impairment only warns to check.
    severe_renal_impairment: bool = False
    hepatic_impairment: bool = False
    # None: not stated, so only the rules that hold in every consultation are applied.
    consultation: Consultation | None = None


@dataclass(frozen=True, slots=True)
class MedicationOrder:
    """One prescription line: ``dose_amount`` ``dose_unit`` taken ``frequency``."""

    name: str
    dose_amount: float
    dose_unit: str
    frequency: str = "OD"
    duration_days: int | None = None

    @property
    def dose_text(self) -> str:
        """The dose as written back to people, e.g. ``"500 mg"``."""
        return f"{self.dose_amount:g} {self.dose_unit}"

    @property
    def times_per_day(self) -> float | None:
        """Administrations per day, or None for an as-needed (SOS) order."""
        if _SLOTS.match(self.frequency):
            return float(self.frequency.count("1"))
        return FREQUENCIES[self.frequency]


def parse_dose(text: object, field: str = "dose") -> tuple[float, str]:
    """Split ``"500 mg"`` into ``(500.0, "mg")``; raises :class:`SafetyInputError` if malformed."""
    match = _DOSE.match(text) if isinstance(text, str) else None
    if not match:
        raise SafetyInputError(field, 'expected "<number> <unit>", e.g. "500 mg"')
    amount = float(match.group(1).replace(",", ""))
    unit = canonical_unit(match.group(2))
    if unit is None:
        known = ", ".join(sorted(set(UNIT_ALIASES.values())))
        raise SafetyInputError(field, f'unknown unit "{match.group(2)}" (use one of: {known})')
    if amount <= 0:
        raise SafetyInputError(field, "must be greater than zero")
    return amount, unit


def parse_safety_request(obj: Any) -> tuple[PatientContext, list[MedicationOrder]]:
    """Validate a ``safety check`` request and build the gate's inputs.

    Args:
        obj: The decoded JSON object ``{"patient": {...}, "medications": [{...}, ...]}``.

    Returns:
        The patient and the list of orders.

    Raises:
        SafetyInputError: naming the first bad field.
    """
    if not isinstance(obj, dict):
        raise SafetyInputError("request", "expected a JSON object")
    patient = _patient(obj.get("patient"), _consultation(obj.get("consultation")))
    meds = obj.get("medications")
    if not isinstance(meds, list) or not meds:
        raise SafetyInputError("medications", "expected a non-empty list")
    return patient, [_order(item, f"medications[{i}]") for i, item in enumerate(meds)]


def _consultation(raw: Any) -> Consultation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SafetyInputError("consultation", "expected an object")
    first = raw.get("first")
    if not isinstance(first, bool):
        raise SafetyInputError("consultation.first", "expected true or false")
    mode = raw.get("mode", "video")
    if mode not in CONSULTATION_MODES:
        raise SafetyInputError("consultation.mode",
                               f"expected one of {', '.join(CONSULTATION_MODES)}")
    return Consultation(first=first, mode=mode)


def _flag(raw: dict[str, Any], name: str) -> bool:
    value = raw.get(name)
    if value is not None and not isinstance(value, bool):
        raise SafetyInputError(f"patient.{name}", "expected true or false")
    return bool(value)


def _patient(raw: Any, consultation: Consultation | None = None) -> PatientContext:
    if not isinstance(raw, dict):
        raise SafetyInputError("patient", "expected an object")
    age = _number(raw.get("age_years"), "patient.age_years", 0, 130, required=True)
    sex = raw.get("sex")
    if sex is not None:
        if not isinstance(sex, str) or sex.strip().lower() not in SEXES:
            raise SafetyInputError("patient.sex", f"expected one of {', '.join(SEXES)}")
        sex = sex.strip().lower()
    weight = _number(raw.get("weight_kg"), "patient.weight_kg", 0.3, 400, required=False)
    return PatientContext(
        age_years=age, sex=sex, weight_kg=weight, pregnant=_flag(raw, "pregnant"),
        breastfeeding=_flag(raw, "breastfeeding"),
        renal_impairment=_flag(raw, "renal_impairment")
        or _flag(raw, "severe_renal_impairment"),
        severe_renal_impairment=_flag(raw, "severe_renal_impairment"),
        hepatic_impairment=_flag(raw, "hepatic_impairment"), consultation=consultation,
        allergies=_names(raw.get("allergies"), "patient.allergies"),
        current_medications=_names(raw.get("current_medications"),
                                   "patient.current_medications"),
    )


def _order(raw: Any, where: str) -> MedicationOrder:
    if not isinstance(raw, dict):
        raise SafetyInputError(where, "expected an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SafetyInputError(f"{where}.name", "expected a medicine name")
    amount, unit = parse_dose(raw.get("dose"), f"{where}.dose")
    freq = raw.get("frequency", "OD")
    key = freq.strip().upper().replace(" ", "") if isinstance(freq, str) else None
    if key not in FREQUENCIES and not (key and _SLOTS.match(key) and "1" in key):
        raise SafetyInputError(f"{where}.frequency",
                               f"expected one of {', '.join(FREQUENCIES)} or slots like 1-0-1")
    duration = raw.get("duration_days")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)
                                 or not 1 <= duration <= 3650):
        raise SafetyInputError(f"{where}.duration_days", "expected a whole number of days (1-3650)")
    return MedicationOrder(name.strip(), amount, unit, key, duration)


def _number(value: Any, field: str, low: float, high: float, *, required: bool) -> Any:
    if value is None:
        if required:
            raise SafetyInputError(field, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SafetyInputError(field, "expected a number")
    if not low <= value <= high:
        raise SafetyInputError(field, f"expected a number between {low:g} and {high:g}")
    return float(value)


def _names(value: Any, field: str) -> tuple[str, ...]:
    """A list of names; items may be strings or objects with a ``name``."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SafetyInputError(field, "expected a list of names")
    names = []
    for i, item in enumerate(value):
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise SafetyInputError(f"{field}[{i}]", "expected a non-empty name")
        names.append(name.strip())
    return tuple(names)
