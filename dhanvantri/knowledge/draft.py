"""The prescription draft written at the end of intake, for the physician to edit and sign.

Everything structured comes from the knowledge base protocol of the best-fitting condition and
is checked by the safety gate. A language model may add a short narrative for the physician
(``explain``), but never changes the diagnosis, medicines, doses, tests or follow-up. The draft
is never shown to the patient before a physician signs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from dhanvantri.knowledge.lexicon import symptom
from dhanvantri.knowledge.scoring import feature_match

if TYPE_CHECKING:
    from dhanvantri.knowledge.conditions import Condition, MedicineLine
    from dhanvantri.knowledge.intake import IntakeState
    from dhanvantri.knowledge.retrieval import KnowledgeBase

_SOFTMAX_TEMPERATURE = 0.05


class DraftNotReady(ValueError):
    """The intake lacks facts a draft needs; ``missing`` lists the topics."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("intake incomplete: " + ", ".join(missing))
        self.missing = missing


@dataclass(frozen=True, slots=True)
class DraftMedicine:
    """One proposed line. ``role``: first_line, conditional (see ``when``), alternative, or
    continue (the patient already takes it: a refill, not a new medicine)."""

    generic: str
    dose: str
    route: str
    frequency: str
    duration_days: int
    role: str
    when: str = ""


@dataclass
class PrescriptionDraft:
    """A structured draft; :meth:`to_dict` gives its JSON form."""

    diagnosis: str
    condition_id: str
    confidence: float
    confidence_label: str
    differentials: list[dict[str, Any]]
    medicines: list[DraftMedicine]
    withheld: list[dict[str, str]]
    lab_tests: list[str]
    advice: list[str]
    red_flags: list[str]
    follow_up_days: int
    reasoning: list[str]
    sources: list[str]
    safety: dict[str, Any] | None
    narrative: str | None = None
    requires_physician_signature: bool = field(default=True, init=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form of the draft."""
        out = asdict(self)
        out["narrative_source"] = "language model" if self.narrative else None
        return out


def build_draft(state: IntakeState, kb: KnowledgeBase,
                explain: Callable[[str], str] | None = None) -> PrescriptionDraft:
    """Draft a prescription from the intake and the knowledge base, then run the safety gate.

    Args:
        state: a finished intake (see :meth:`IntakeState.missing_for_draft`).
        kb: the open knowledge base.
        explain: optional ``prompt -> text`` call to a language model for a short narrative
            addressed to the physician; its text is stored apart from the structured fields.

    Raises:
        DraftNotReady: the intake lacks complaint, duration, age, pregnancy status (when it
            matters), allergies or current medicines.
    """
    missing = state.missing_for_draft()
    if missing:
        raise DraftNotReady(missing)
    ranked = state.candidate_conditions(kb, k=4)
    top, _ = ranked[0]
    confidence = _confidence([score for _, score in ranked])
    chosen, withheld = _select_medicines(top, state)
    draft = PrescriptionDraft(
        diagnosis=top.title, condition_id=top.id, confidence=confidence,
        confidence_label="high" if confidence >= 0.6 else "moderate" if confidence >= 0.35
        else "low",
        differentials=[{"id": c.id, "title": c.title, "score": s} for c, s in ranked[1:]],
        medicines=chosen, withheld=withheld, lab_tests=list(top.lab_tests),
        advice=list(top.advice), red_flags=list(top.red_flags),
        follow_up_days=top.follow_up_days, reasoning=_reasoning(state, top, ranked, withheld),
        sources=[src.cite() for src in top.sources], safety=_safety(state, chosen))
    if explain is not None:
        draft.narrative = explain(_narrative_prompt(state, draft)).strip() or None
    return draft


def _confidence(scores: list[float]) -> float:
    # A relative score among the top candidates, not a probability of disease.
    import math

    weights = [math.exp(s / _SOFTMAX_TEMPERATURE) for s in scores]
    return round(weights[0] / sum(weights), 2)


def _role(line: MedicineLine) -> str:
    when = line.when.lower()
    if not when:
        return "first_line"
    if when.startswith("alternative") or "not suitable" in when or "allergic to" in when:
        return "alternative"
    return "conditional"


def _select_medicines(condition: Condition, state: IntakeState
                      ) -> tuple[list[DraftMedicine], list[dict[str, str]]]:
    chosen, withheld = [], []
    allergies = " ".join(state.allergies).lower()
    current = " ".join(state.medications).lower()
    for line in condition.medicines:
        when = line.when.lower()
        if state.pregnant and "not in pregnancy" in when:
            withheld.append({"generic": line.generic, "reason": "protocol: not in pregnancy"})
            continue
        if allergies and line.generic.split()[0] in allergies:
            withheld.append({"generic": line.generic, "reason": "patient reports an allergy"})
            continue
        role = "continue" if line.generic.split()[0] in current else _role(line)
        chosen.append(DraftMedicine(line.generic, line.dose, line.route, line.frequency,
                                    line.duration_days, role, line.when))
    return chosen, withheld


def _safety(state: IntakeState, chosen: list[DraftMedicine]) -> dict[str, Any] | None:
    try:
        from dhanvantri.knowledge.safety import (
            MedicationOrder,
            PatientContext,
            check_prescription,
        )
    except ImportError:  # the gate ships separately; the physician then checks by hand
        return None
    from dhanvantri.knowledge.conditions import load_conditions

    specs = {m.generic: m.order for c in load_conditions() for m in c.medicines if m.order}

    def orders(meds: list[DraftMedicine]) -> list[Any]:
        return [MedicationOrder(name=m.generic, dose_amount=specs[m.generic].amount,
                                dose_unit=specs[m.generic].unit, frequency=specs[m.generic].freq,
                                duration_days=m.duration_days)
                for m in meds if m.generic in specs]

    patient = PatientContext(age_years=float(state.age_years or 0), sex=state.sex,
                             pregnant=bool(state.pregnant), allergies=tuple(state.allergies),
                             current_medications=tuple(state.medications),
                             weight_kg=state.weight_kg)  # a child's per-kg dose limits
    # Alternatives replace a line rather than add to it, so each is checked on its own
    # (against the patient and their current medicines), not alongside the lines it replaces.
    # Lines the patient already takes are checked as current medicines, not as new ones.
    main = [m for m in chosen if m.role not in ("alternative", "continue")]
    result = check_prescription(patient, orders(main)).to_dict()
    result["alternatives"] = {
        m.generic: check_prescription(patient, orders([m])).to_dict()
        for m in chosen if m.role == "alternative" and m.generic in specs}
    result["not_checked"] = [m.generic for m in chosen if m.generic not in specs]
    return result


def _reasoning(state: IntakeState, top: Condition, ranked: list[tuple[Condition, float]],
               withheld: list[dict[str, str]]) -> list[str]:
    present = [symptom(s).label for s, yes in state.symptoms.items() if yes]
    denied = [symptom(s).label for s, yes in state.symptoms.items() if not yes]
    match = feature_match(top, state.symptoms)
    lines = [f"Reported: {', '.join(present) or 'no mapped symptoms'}"
             + (f" for {state.duration_text}" if state.duration_text else "")
             + (f", {state.severity}" if state.severity else "") + "."]
    if denied:
        lines.append(f"Denied: {', '.join(denied)}.")
    lines.append(
        f"{top.title}: matches {', '.join(symptom(s).label for s in match.matched) or 'none'} "
        f"({match.coverage:.0%} of its typical picture; explains {match.explained:.0%} of the "
        f"reported symptoms); ranking score {ranked[0][1]:.2f}.")
    lines.append("Also considered: " + ", ".join(f"{c.title} ({s:.2f})" for c, s in ranked[1:])
                 + ".")
    lines.append(f"Protocol from: {top.source_text()}.")
    for item in withheld:
        lines.append(f"Left out {item['generic']}: {item['reason']}.")
    return lines


def _narrative_prompt(state: IntakeState, draft: PrescriptionDraft) -> str:
    return ("Write two sentences for the treating doctor summarising this teleconsultation "
            "intake. Do not add medicines, doses or diagnoses.\n"
            f"Intake: {state.summary()}\nWorking diagnosis from protocol: {draft.diagnosis}.")
