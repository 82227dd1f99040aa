"""The safety gate every draft and every edit passes through before a physician can approve it.

The clinical module may supply a richer gate (interactions, dose ranges) through
``install(..., safety_gate=...)``; ``BasicSafetyGate`` is the built-in floor: it blocks medicines
that may never be prescribed by teleconsultation and allergy conflicts, and warns on duplicates.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from .domain.accounts import PatientProfile

# Telemedicine Practice Guidelines 2020: Schedule X and NDPS narcotics/psychotropics are never
# prescribed by teleconsultation. Generic names, lower case.
NEVER_BY_TELECONSULT = frozenset({
    "morphine", "codeine", "tramadol", "alprazolam", "fentanyl", "pethidine", "methadone",
    "buprenorphine", "oxycodone", "ketamine", "methylphenidate", "pentazocine",
})


class SafetyGate(Protocol):
    """Checks a prescription's clinical content against the patient."""

    async def check(self, content: dict[str, Any], patient: PatientProfile | None
                    ) -> dict[str, Any]:
        """Return ``{"blocked": bool, "issues": [{"severity", "code", "message", ...}]}``."""
        ...


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


class BasicSafetyGate:
    """Rule-based checks that need no external data."""

    name = "basic"

    async def check(self, content: dict[str, Any], patient: PatientProfile | None
                    ) -> dict[str, Any]:
        issues: list[dict[str, Any]] = []
        allergies = [a.lower().strip() for a in (patient.allergies if patient else []) if a]
        current = {m.lower().strip() for m in (patient.medicines if patient else []) if m}
        seen: set[str] = set()
        for index, med in enumerate(content.get("medications", [])):
            name = str(med.get("name", "")).strip()
            words = _words(name)
            where = {"medication": name, "field": f"medications[{index}].name"}
            if words & NEVER_BY_TELECONSULT:
                issues.append({"severity": "block", "code": "NOT_PRESCRIBABLE_REMOTELY",
                               "message": "Schedule X / NDPS medicine cannot be prescribed "
                                          "by teleconsultation", **where})
            for allergy in allergies:
                if allergy in name.lower() or _words(allergy) & words:
                    issues.append({"severity": "block", "code": "ALLERGY_CONFLICT",
                                   "message": f"patient is allergic to {allergy}", **where})
            key = name.lower()
            if key in seen:
                issues.append({"severity": "warn", "code": "DUPLICATE_MEDICATION",
                               "message": "listed more than once", **where})
            if key in current:
                issues.append({"severity": "warn", "code": "ALREADY_TAKING",
                               "message": "patient already takes this medicine", **where})
            seen.add(key)
            for part in ("dose", "frequency", "duration"):
                if not str(med.get(part, "")).strip():
                    issues.append({"severity": "warn", "code": "INCOMPLETE_DIRECTIONS",
                                   "message": f"{part} is missing", "medication": name,
                                   "field": f"medications[{index}].{part}"})
        blocked = any(i["severity"] == "block" for i in issues)
        return {"blocked": blocked, "issues": issues, "checked_by": self.name}


def normalize_safety(result: dict[str, Any] | None) -> dict[str, Any]:
    """A safety result from any gate in the shape the prescription keeps."""
    result = dict(result or {})
    issues = result.get("issues") or []
    blocked = bool(result.get("blocked")) or any(
        isinstance(i, dict) and i.get("severity") == "block" for i in issues)
    return {**result, "blocked": blocked, "issues": list(issues)}
