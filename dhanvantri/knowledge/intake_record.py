"""The intake as the clinical record keeps it, and as it is read back to the patient.

Split from :mod:`dhanvantri.knowledge.intake`, which reads the patient's words and decides
what to ask; this module only presents what it knows.
"""

from __future__ import annotations

from typing import Any

from dhanvantri.knowledge.lexicon import symptom

# An ``IntakeState``: typed loosely, since naming it here would make an import circle (the
# intake presents itself through this module).
IntakeState = Any


def record(state: IntakeState) -> dict[str, Any]:
    """The intake as plain JSON-ready data, for the consultation's clinical record.

    Duration and severity are known for the complaint as a whole (the extraction does not
    tie them to one symptom), so each reported symptom carries them; its ``character``
    ("dry", "throbbing") is its own, None when not said. ``vitals`` holds the readings the
    patient reported (keys as :func:`~dhanvantri.knowledge.readings.vitals`). ``unanswered``
    lists the questions asked that got no usable answer (left for the physician).
    """
    # Copies first: the next question is chosen in a worker thread that updates these.
    symptoms, attempts = dict(state.symptoms), dict(state.attempts)
    character = dict(state.character)
    return {
        "complaint": state.complaint,
        "symptoms": [{"key": key, "name": symptom(key).label, "present": present,
                      "duration": state.duration_text if present else None,
                      "severity": state.severity if present else None,
                      "character": character.get(key) if present else None}
                     for key, present in symptoms.items()],
        "duration_days": state.duration_days, "duration": state.duration_text,
        "severity": state.severity, "severity_score": state.severity_score,
        "onset": state.onset, "age_years": state.age_years, "sex": state.sex,
        "pregnant": state.pregnant,
        "weight_kg": state.weight_kg, "vitals": dict(state.vitals),
        "allergies": list(state.allergies), "no_allergies": state.no_allergies,
        "medications": list(state.medications), "no_medications": state.no_medications,
        "conditions": list(state.conditions), "no_conditions": state.no_conditions,
        "summary_confirmed": state.summary_confirmed,
        "unanswered": state.unanswered(attempts, symptoms),
        "missing": state.missing_for_draft(), "turns": state.turns,
    }


def summary(state: IntakeState) -> str:
    """A plain read-back of what the patient said (no diagnosis, no medicines)."""
    present = [symptom(s).label for s, yes in state.symptoms.items() if yes]
    absent = [symptom(s).label for s, yes in state.symptoms.items() if not yes]
    parts = []
    if present:
        parts.append("you have " + ", ".join(present))
    if state.duration_text:
        parts.append(_how_long(state.duration_text))
    if state.severity:
        parts.append(f"and it is {state.severity}")
    sentence = " ".join(parts) or "you are not feeling well"
    extra = []
    if (temperature := state.vitals.get("temperature_f")) is not None:
        extra.append(f"temperature {temperature:g} degrees Fahrenheit")
    if state.weight_kg is not None:
        extra.append(f"weight {state.weight_kg:g} kilograms")
    if absent:
        extra.append("no " + ", no ".join(absent))
    extra.append("allergies: " + (", ".join(state.allergies) or "none"))
    extra.append("medicines: " + (", ".join(state.medications) or "none"))
    if state.conditions:
        extra.append("other illnesses: " + ", ".join(state.conditions))
    return f"Let me check I have understood: {sentence}; {'; '.join(extra)}. Is that right?"


def _how_long(words: str) -> str:
    """"for 3 days", "since yesterday": a duration said from a point in time keeps its own
    preposition ("for since yesterday" is not English)."""
    if words.startswith(("since ", "from ", "for ")):
        return words
    return f"for {words}"
