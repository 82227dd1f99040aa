"""Turn a draft from the clinical module (or a physician's edit) into prescription content."""

from __future__ import annotations

from typing import Any

from ..http.errors import ValidationFailed
from .safety import MODES, ConsultationContext

MED_FIELDS = ("name", "dose", "frequency", "duration", "route", "instructions")
LIST_FIELDS = ("lab_tests", "advice", "red_flags")
ALIASES = {"lifestyle_advice": "advice", "lifestyleAdvice": "advice", "labTests": "lab_tests",
           "redFlags": "red_flags", "followUpDays": "follow_up_days"}


def _text(value: Any, field: str, limit: int = 500) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ValidationFailed.field(field, "must be text")
    text = str(value).strip()
    if len(text) > limit:
        raise ValidationFailed.field(field, f"at most {limit} characters")
    return text


# What a knowledge-draft line's role tells the physician (first-line lines need no note).
_ROLE_NOTES = {"conditional": "only if needed", "alternative": "alternative",
               "continue": "already taking: continue"}


def _from_knowledge_line(med: Any) -> Any:
    """A knowledge draft's line (``generic``, ``duration_days``, ``role``, ``when``) in the
    prescription's shape (``name``, ``duration``, ``instructions``); other lines pass as they are.
    """
    if not isinstance(med, dict) or "generic" not in med or "name" in med:
        return med
    days = med.get("duration_days")
    notes = [_ROLE_NOTES.get(str(med.get("role") or ""), ""), str(med.get("when") or "")]
    return {"name": med.get("generic"), "dose": med.get("dose"),
            "frequency": med.get("frequency"), "route": med.get("route"),
            "duration": f"{days} days" if isinstance(days, int) and days > 0 else "",
            "instructions": "; ".join(n for n in notes if n)}


def knowledge_aliases(data: dict[str, Any]) -> dict[str, Any]:
    """The one place the clinical module's draft keys become the prescription's.

    ``build_draft(...).to_dict()`` names its lines ``medicines`` (``generic``, ``duration_days``,
    ``role``, ``when``) and its confidence ``confidence_label``; the prescription reads
    ``medications`` (``name``, ``duration``, ``instructions``) and ``diagnosis_confidence``.
    """
    data = dict(data)
    if data.get("medications") is None and isinstance(data.get("medicines"), list):
        data["medications"] = [_from_knowledge_line(m) for m in data["medicines"]]
    if data.get("diagnosis_confidence") is None and data.get("confidence_label") is not None:
        data["diagnosis_confidence"] = data["confidence_label"]
    return data


def normalize_content(draft: dict[str, Any]) -> dict[str, Any]:
    """The clinical part of a draft in a fixed shape; raises ``ValidationFailed`` naming a field.

    Accepted keys: ``diagnosis``, ``diagnosis_confidence``, ``medications`` (list of objects with
    ``name``, ``dose``, ``frequency``, ``duration``, ``route``, ``instructions``), ``lab_tests``,
    ``advice``, ``red_flags`` (lists of text) and ``follow_up_days``; camelCase aliases too,
    and the clinical module's draft keys (see :func:`knowledge_aliases`).
    """
    if not isinstance(draft, dict):
        raise ValidationFailed.field("draft", "must be an object")
    data = knowledge_aliases({ALIASES.get(k, k): v for k, v in draft.items()})
    meds = data.get("medications") or []
    if not isinstance(meds, list):
        raise ValidationFailed.field("medications", "must be a list")
    medications = []
    for i, med in enumerate(meds):
        if not isinstance(med, dict):
            raise ValidationFailed.field(f"medications[{i}]", "must be an object")
        item = {f: _text(med.get(f), f"medications[{i}].{f}") for f in MED_FIELDS}
        if not item["name"]:
            raise ValidationFailed.field(f"medications[{i}].name", "required")
        medications.append(item)
    content: dict[str, Any] = {
        "diagnosis": _text(data.get("diagnosis"), "diagnosis"),
        "diagnosis_confidence": _text(data.get("diagnosis_confidence"), "diagnosis_confidence",
                                      16),
        "medications": medications,
    }
    for field in LIST_FIELDS:
        items = data.get(field) or []
        if not isinstance(items, list):
            raise ValidationFailed.field(field, "must be a list")
        content[field] = [_text(x, f"{field}[{j}]") for j, x in enumerate(items)]
    follow = data.get("follow_up_days")
    if follow is not None and (isinstance(follow, bool) or not isinstance(follow, int)
                               or not 0 <= follow <= 365):
        raise ValidationFailed.field("follow_up_days", "whole number of days, 0 to 365")
    content["follow_up_days"] = follow
    return content


# How each mode reads on the prescription and to the patient.
MODE_LABELS = {"audio": "audio", "video": "video", "text": "text (chat)",
               "in_person": "in person"}


def stated_consultation(raw: Any) -> dict[str, Any]:
    """A physician's statement of how the consultation was held: ``{"first", "mode"}``.

    Raises ``ValidationFailed`` naming ``consultation``, ``consultation.first`` or
    ``consultation.mode``.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed.field("consultation", "must be an object")
    if not isinstance(raw.get("first"), bool):
        raise ValidationFailed.field("consultation.first", "true (first) or false (follow-up)")
    if raw.get("mode") not in MODES:
        raise ValidationFailed.field("consultation.mode", f"one of {', '.join(MODES)}")
    return {"first": raw["first"], "mode": raw["mode"]}


def consultation_label(held: dict[str, Any]) -> str:
    """``{"first": True, "mode": "video"}`` -> ``"first consultation, video"``."""
    kind = "first consultation" if held.get("first") else "follow-up"
    return f"{kind}, {MODE_LABELS.get(str(held.get('mode')), str(held.get('mode')))}"


def consultation_context(draft: dict[str, Any] | None,
                         stated: dict[str, Any] | None = None) -> ConsultationContext:
    """What the safety gate learns from a draft's consultation (kept in the prescription's
    ``ai_draft``, so a physician's edit is checked against the same consultation).

    How it was held, kept simple and documented:

    * what the reviewing physician ``stated`` (kept in the prescription's content as
      ``consultation``) comes first: they know whether they saw the patient by video, or
      whether this continues treatment begun in person;
    * ``consultation.first`` and ``consultation.mode``, when the draft's record states them
      (a booked video visit, a follow-up), are used as they are;
    * otherwise a consultation the voice assistant held (its record carries an ``end_reason``)
      is a first audio consultation: a physician who joins it from the desk does so by voice,
      which does not make it a video consultation;
    * otherwise nothing is known, and the gate applies only the rules that hold in every
      teleconsultation.

    The patient's state comes from the intake (``consultation.intake`` or ``intake``):
    ``pregnant`` (only a stated yes counts) and ``weight_kg``.
    """
    draft = draft if isinstance(draft, dict) else {}
    block = draft.get("consultation")
    block = block if isinstance(block, dict) else {}
    intake = block.get("intake") or draft.get("intake")
    intake = intake if isinstance(intake, dict) else {}
    first, mode = block.get("first"), block.get("mode")
    if stated:
        first, mode = stated.get("first"), stated.get("mode")
    held_by_assistant = "end_reason" in block
    if not isinstance(first, bool):
        first = True if held_by_assistant else None
    if mode not in MODES:
        mode = "audio" if held_by_assistant else None
    weight = intake.get("weight_kg")
    if (isinstance(weight, bool) or not isinstance(weight, int | float)
            or not 0.3 <= weight <= 400):
        weight = None  # the gate's own bounds; anything else was not a weight
    return ConsultationContext(first=first, mode=mode, pregnant=intake.get("pregnant") is True,
                               weight_kg=float(weight) if weight is not None else None)
