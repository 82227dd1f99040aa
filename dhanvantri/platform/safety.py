"""The safety gate every draft and every edit passes through before a physician can approve it.

The clinical module may supply a richer gate (interactions, dose ranges) through
``install(..., safety_gate=...)``; ``BasicSafetyGate`` is the built-in floor: it blocks medicines
that may never be prescribed by teleconsultation (the medicine table's Schedule X and NDPS
entries, by generic, synonym or brand) and allergy conflicts, and warns on duplicates.

A gate is told about the consultation too (:class:`ConsultationContext`): how it was held
(first or follow-up; audio, video or text), which the Telemedicine Practice Guidelines 2020 need,
and the patient's state then (pregnant, weight) that the stored profile does not keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from dhanvantri.knowledge.medicines import load_medicines

from .domain.accounts import PatientProfile

# How a consultation can be held (the knowledge library's ``CONSULTATION_MODES``).
MODES = ("audio", "video", "text", "in_person")


@dataclass(frozen=True, slots=True)
class ConsultationContext:
    """What the consultation adds to the patient's profile for the gate.

    Attributes:
        first: a first consultation (True), a follow-up (False), or not known (None: the
            teleconsultation lists are then not applied, only the prohibition).
        mode: ``audio``, ``video``, ``text`` or ``in_person``; None when not known.
        pregnant: the patient said she is pregnant.
        weight_kg: the weight the patient gave (a child's per-kg limits need it).
    """

    first: bool | None = None
    mode: str | None = None
    pregnant: bool = False
    weight_kg: float | None = None


class SafetyGate(Protocol):
    """Checks a prescription's clinical content against the patient."""

    async def check(self, content: dict[str, Any], patient: PatientProfile | None,
                    context: ConsultationContext | None = None) -> dict[str, Any]:
        """Return ``{"blocked": bool, "issues": [{"severity", "code", "message", ...}]}``."""
        ...


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@lru_cache(maxsize=4096)
def never_by_teleconsult(name: str) -> str | None:
    """The generic of a Schedule X or NDPS medicine ``name`` names (generic, synonym or brand,
    with or without a strength), or None. Telemedicine Practice Guidelines 2020: these are
    never prescribed by teleconsultation."""
    med = load_medicines().lookup(name)
    return med.generic if med is not None and med.controlled else None


class BasicSafetyGate:
    """Rule-based checks that need nothing but the medicine table."""

    name = "basic"

    async def check(self, content: dict[str, Any], patient: PatientProfile | None,
                    context: ConsultationContext | None = None) -> dict[str, Any]:
        issues: list[dict[str, Any]] = []
        allergies = [a.lower().strip() for a in (patient.allergies if patient else []) if a]
        current = {m.lower().strip() for m in (patient.medicines if patient else []) if m}
        seen: set[str] = set()
        for index, med in enumerate(content.get("medications", [])):
            name = str(med.get("name", "")).strip()
            words = _words(name)
            where = {"medication": name, "field": f"medications[{index}].name"}
            if name and never_by_teleconsult(name):
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
