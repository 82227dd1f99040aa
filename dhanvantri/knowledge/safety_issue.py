"""The safety gate's findings: issues with a code and severity, and the overall verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CODES = (
    "CONTROLLED_SUBSTANCE",
    "ALLERGY",
    "INTERACTION",
    "DOSE_RANGE",
    "CONTRAINDICATION",
    "DUPLICATE_THERAPY",
    "UNKNOWN_DRUG",
    "TELECONSULTATION",
)
# Severity order; "info" is shown to the doctor but does not change the verdict.
SEVERITY_RANK = {"info": 0, "warn": 1, "block": 2}


@dataclass(frozen=True, slots=True)
class SafetyIssue:
    """One finding about one prescription line (or a pair of them)."""

    code: str
    severity: str
    medication: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The JSON shape: ``{"code", "severity", "medication", "message"}``."""
        return {"code": self.code, "severity": self.severity, "medication": self.medication,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class SafetyResult:
    """The verdict (``ok``, ``warn`` or ``block``: the worst issue) and the issues, worst first."""

    verdict: str
    issues: tuple[SafetyIssue, ...]

    @classmethod
    def from_issues(cls, issues: list[SafetyIssue]) -> SafetyResult:
        """Order issues worst first (stable) and derive the verdict from the worst one."""
        ordered = sorted(issues, key=lambda i: -SEVERITY_RANK[i.severity])
        worst = max((SEVERITY_RANK[i.severity] for i in ordered), default=0)
        return cls({2: "block", 1: "warn"}.get(worst, "ok"), tuple(ordered))

    def codes(self, severity: str | None = None) -> set[str]:
        """The issue codes present, optionally only those of one severity."""
        return {i.code for i in self.issues if severity in (None, i.severity)}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``dhanvantri safety check``."""
        return {"verdict": self.verdict, "issues": [i.to_dict() for i in self.issues]}
