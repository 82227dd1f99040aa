"""Adapter from prescription content to the knowledge library's safety gate.

``dhanvantri.knowledge.safety.check_prescription`` checks controlled substances, allergies (with
drug classes), interactions, dose ranges, contraindications and duplicate therapy. This adapter
turns the stored content and patient profile into its inputs, keeps lines it cannot parse visible
as warnings, and adds ``BasicSafetyGate``'s name-based blocks as a floor for those lines.

What the library's rules need beyond the stored profile comes from two places:

* the consultation (:class:`~.safety.ConsultationContext`, read from the draft by
  ``drafts.consultation_context``, or as the reviewing physician stated it): first or
  follow-up and audio, video or text, for the Telemedicine Practice Guidelines' lists
  (``TELECONSULTATION``); pregnancy and the weight the patient gave;
* the profile's conditions (stored, and those stated in the call): kidney or liver impairment,
  breastfeeding and pregnancy, by the words patients and the intake use for them (the intake
  records "kidney disease" and "liver disease"); CKD stage 4 or 5, dialysis or kidney failure
  make the kidney impairment severe, so cautions below an eGFR of 30 block.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

from .domain.accounts import PatientProfile
from .safety import BasicSafetyGate, ConsultationContext

ADULT_AGE = 18.0  # assumed when the date of birth is unknown (flagged to the physician)
_FLOOR_CODES = {"NOT_PRESCRIBABLE_REMOTELY", "ALLERGY_CONFLICT"}
# A condition names an impairment, not any illness of the organ: a kidney stone or a fatty liver
# does not change doses; failure, chronic disease, dialysis or cirrhosis does.
_STATES = {
    "renal_impairment": re.compile(
        r"\b(kidney|renal) (disease|failure|impairment|insufficiency|problem)|\bckd\b|"
        r"\bdialysis\b|nephropathy|nephrotic", re.IGNORECASE),
    "hepatic_impairment": re.compile(
        r"\b(liver|hepatic) (disease|failure|impairment|problem)|cirrhosis|"
        r"chronic hepatitis|hepatitis [bc]\b", re.IGNORECASE),
    "breastfeeding": re.compile(r"breast[- ]?feed|lactat|nursing (mother|a baby|an infant)",
                                re.IGNORECASE),
    "pregnant": re.compile(r"\bpregnan", re.IGNORECASE),
}


def age_years(date_of_birth: str | None, today: date) -> float | None:
    """Age from an ISO date of birth, or ``None`` when unknown or malformed."""
    try:
        born = date.fromisoformat(date_of_birth or "")
    except ValueError:
        return None
    years = (today - born).days / 365.25
    return years if 0 <= years <= 130 else None


# Kidney impairment known to be severe: the table's eGFR-threshold cautions then block.
_SEVERE_KIDNEY = re.compile(
    r"\b(ckd|kidney disease|renal disease)\b.{0,20}\bstage\s*(4|5|iv|v)\b|\bckd\s*(4|5)\b|"
    r"\bdialysis\b|end[- ]stage (kidney|renal)|\besrd\b|(kidney|renal) failure",
    re.IGNORECASE)


def severe_kidney(conditions: list[str]) -> bool:
    """Whether ``conditions`` say the kidney impairment is severe (CKD 4-5, dialysis, failure)."""
    return any(_SEVERE_KIDNEY.search(c) for c in conditions)


def stated_states(conditions: list[str]) -> dict[str, bool]:
    """Which of renal and hepatic impairment, breastfeeding and pregnancy ``conditions`` name."""
    return {state: any(pattern.search(c) for c in conditions)
            for state, pattern in _STATES.items()}


def _days(duration: str) -> int | None:
    match = re.search(r"(\d+)\s*(day|d\b|week|wk|month)", duration.lower())
    if not match:
        return None
    count, unit = int(match.group(1)), match.group(2)
    days = count * (7 if unit in ("week", "wk") else 30 if unit == "month" else 1)
    return days if 1 <= days <= 3650 else None


class KnowledgeSafetyGate:
    """The knowledge library's clinical checks, shaped as a ``SafetyGate``."""

    name = "knowledge"

    def __init__(self) -> None:
        from dhanvantri.knowledge import safety  # a pure library; loaded when the gate is built

        self._safety = safety
        self._floor = BasicSafetyGate()

    async def check(self, content: dict[str, Any], patient: PatientProfile | None,
                    context: ConsultationContext | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(self._check, content, patient,
                                       context or ConsultationContext(),
                                       await self._floor.check(content, patient, context))

    def _check(self, content: dict[str, Any], patient: PatientProfile | None,
               context: ConsultationContext, floor: dict[str, Any]) -> dict[str, Any]:
        issues: list[dict[str, Any]] = []
        age = age_years(patient.date_of_birth if patient else None, date.today())
        if age is None:
            issues.append({"severity": "warn", "code": "AGE_UNKNOWN", "medication": "",
                           "message": "date of birth unknown: adult dose limits assumed"})
        sex = patient.sex if patient and patient.sex in ("male", "female", "other") else None
        states = stated_states(list(patient.conditions) if patient else [])
        held = (self._safety.Consultation(first=context.first, mode=context.mode)
                if context.first is not None and context.mode is not None else None)
        patient_context = self._safety.PatientContext(
            age_years=age if age is not None else ADULT_AGE, sex=sex,
            weight_kg=context.weight_kg,
            pregnant=(context.pregnant or states["pregnant"]) and sex != "male",
            breastfeeding=states["breastfeeding"] and sex != "male",
            renal_impairment=states["renal_impairment"],
            severe_renal_impairment=severe_kidney(list(patient.conditions) if patient else []),
            hepatic_impairment=states["hepatic_impairment"], consultation=held,
            allergies=tuple(patient.allergies) if patient else (),
            current_medications=tuple(patient.medicines) if patient else ())
        context_in = {"age_years": patient_context.age_years}
        orders, unparsed = [], set()
        for index, med in enumerate(content.get("medications", [])):
            line = {"name": med.get("name", ""), "dose": med.get("dose", ""),
                    "frequency": med.get("frequency") or "OD"}
            if (days := _days(str(med.get("duration", "")))) is not None:
                line["duration_days"] = days
            try:
                _, parsed = self._safety.parse_safety_request(
                    {"patient": context_in, "medications": [line]})
            except self._safety.SafetyInputError as exc:
                unparsed.add(line["name"])
                field = exc.field.replace("medications[0]", f"medications[{index}]")
                issues.append({"severity": "warn", "code": "UNCHECKED_LINE",
                               "medication": line["name"], "field": field,
                               "message": f"could not be checked: {exc.message}"})
                continue
            orders.extend(parsed)
        if orders:
            result = self._safety.check_prescription(patient_context, orders)
            issues.extend(issue.to_dict() for issue in result.issues)
        # Lines the library could not read still get the name-based blocks.
        issues.extend(i for i in floor["issues"]
                      if i["code"] in _FLOOR_CODES and i["medication"] in unparsed)
        blocked = any(i["severity"] == "block" for i in issues)
        return {"blocked": blocked, "verdict": "block" if blocked else (
            "warn" if any(i["severity"] == "warn" for i in issues) else "ok"),
            "issues": issues, "checked_by": self.name}


def default_gate() -> Any:
    """The knowledge gate when that library is installed, else the basic rules."""
    try:
        return KnowledgeSafetyGate()
    except ImportError:
        return BasicSafetyGate()
