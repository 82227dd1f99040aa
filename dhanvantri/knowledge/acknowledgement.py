"""What the assistant understood from the patient's last turn, said before the next question.

:func:`acknowledge` restates the facts the intake took from one turn ("Fever and body ache for
three days.", "Noted: you're allergic to penicillin.", "101 degrees — thank you."), from two
:meth:`~dhanvantri.knowledge.intake.IntakeState.as_record` dicts, with empathy where the turn
calls for it. It is built from the record, so it names only what the patient said and holds no
private detail (the record has no names). No diagnosis, advice, dose or reassurance.

:func:`~dhanvantri.knowledge.acknowledgement_check.problems` checks any other sentence meant
for that place (a model's paraphrase).
"""

from __future__ import annotations

import re
from typing import Any

MAX_WORDS = 20
# Long-standing conditions the lexicon also reads as symptoms ("sugar"): named with a condition
# in the same turn, the condition says it.
_HISTORY_SYMPTOMS = {"high_bp", "high_sugar", "thyroid", "wheeze_history"}
_HISTORY_TOPICS = ("allergies", "medications", "conditions")
# Conditions in the patient's words, not the record's ("hypertension").
_PLAIN_CONDITIONS = {"hypertension": "high blood pressure", "thyroid disease": "a thyroid problem",
                     "heart disease": "a heart problem", "kidney disease": "a kidney problem",
                     "liver disease": "a liver problem"}
# Said with an article: "a dry cough", "a rash" (the others read well without one).
_COUNTABLE = {"cough", "rash", "headache", "sore throat", "runny nose", "blocked nose",
              "fever that comes and goes with chills", "cough with phlegm",
              "one-sided throbbing headache", "tight band-like headache"}
_PAINFUL = re.compile(r"pain|ache|sore|burning|cramp")
_PHI_TOKEN = re.compile(r"<[A-Z_]+(?:_\d+)?>")
# Labels that do not read as "No <label>" or "<label> — noted".
_SAID_AS = {"light or sound bothers you": ("light or sound bothering you",
                                            "light and sound not bothering you"),
            "others at home or nearby unwell": ("others nearby unwell", "no others unwell nearby")}

_SYMPTOM_FORMS = ("So, {s}.", "I've noted {s}.", "{S} — I've got that.", "{S}, noted.")
_DENIED_FORMS = ("{S} — noted.", "Noted: {s}.", "Okay, {s}.")
_HISTORY_FORMS = {
    "allergy": ("Noted: you're allergic to {s}.", "An allergy to {s} — I've noted that."),
    "no_allergy": ("No allergies — noted.", "Noted: no allergies."),
    "medicine": ("Noted: you're taking {s}.", "You take {s} — I've noted that."),
    "no_medicine": ("No medicines at the moment — noted.", "Noted: no regular medicines."),
    "condition": ("Noted: {s}.", "{S} — I've noted that."),
    "no_condition": ("No long-standing illness — noted.", "Noted: no long-standing illness."),
}
_READING_FORMS = ("{S} — thank you.", "{S}, noted.", "Noted: {s}.")
# Said when the turn answered the question but named nothing new.
_NO_MORE_SYMPTOMS = "No other symptoms — noted."
_CONFIRMED = "Thank you for confirming."
_UNWELL = "I'm sorry to hear that."
_FEELINGS = {
    "severe": ("That sounds hard.", "I'm sorry it's so bad.", "That must be difficult."),
    "painful": ("That sounds painful.", "I'm sorry, that sounds painful.", "That sounds hard."),
    "child": ("I'm sorry your child is unwell.", "That must be worrying for you."),
    "long": ("That's a long time to feel unwell.", "That sounds hard.",
             "I'm sorry you've been unwell so long.")}


def fixed_sentences() -> set[str]:
    """The sentences an acknowledgement may hold in the same words for every patient (empathy,
    "No allergies — noted."): their speech can be kept once made."""
    forms = [*_FEELINGS.values(), *_HISTORY_FORMS.values()]
    fixed = {f for group in forms for f in group if "{" not in f}
    return fixed | {_NO_MORE_SYMPTOMS, _CONFIRMED, _UNWELL}


def _pick(forms: tuple[str, ...], turn: int, text: str) -> str:
    """One of ``forms`` chosen by the turn (stable for tests, varied over a consultation)."""
    return forms[turn % len(forms)].format(s=text, S=text[:1].upper() + text[1:])


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _number(value: float) -> str:
    return f"{value:g}"  # Piper reads digits well: "101" is "one hundred one"


# --- what changed in the turn ---------------------------------------------------------------

def _symptoms(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in record.get("symptoms", [])}


def _new_symptoms(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Labels (with their character) of symptoms reported and denied in this turn."""
    old = _symptoms(before)
    # "High blood sugar" from "my sugar was 250" is a reading read, not something said.
    history = bool(_added(before, after, "conditions")) or (after.get("vitals") or {}) != (
        before.get("vitals") or {})
    present, denied = [], []
    for key, item in _symptoms(after).items():
        was = old.get(key)
        if key in _HISTORY_SYMPTOMS and history:
            continue
        said = _SAID_AS.get(item["name"], (item["name"], f"no {item['name']}"))
        if item["present"] and (not was or not was["present"]
                                or was.get("character") != item.get("character")):
            present.append((said[0], _with_character(said[0], item.get("character"))))
        elif not item["present"] and was is None:
            denied.append(said[1])
    # "one-sided throbbing headache" beside "throbbing headache": the shorter is what was said.
    phrases = [p for _, p in present]
    kept = [(label, p) for i, (label, p) in enumerate(present)
            if p not in phrases[:i] and not any(q != p and q in p for q in phrases)]
    return [f"{'an' if p[0] in 'aeiou' else 'a'} {p}" if label in _COUNTABLE else p
            for label, p in kept], denied


def _with_character(label: str, character: str | None) -> str:
    if not character or character in label:
        return label
    return f"{label} {character}" if character.startswith("with") else f"{character} {label}"


def _changed(before: dict[str, Any], after: dict[str, Any], key: str) -> Any:
    """``after[key]`` when it is new in this turn, else None."""
    value = after.get(key)
    return value if value not in (None, False, [], {}) and value != before.get(key) else None


def _added(before: dict[str, Any], after: dict[str, Any], key: str) -> list[str]:
    return [x for x in after.get(key, []) if x not in before.get(key, [])
            and not _PHI_TOKEN.search(x)]


# --- phrasing ---------------------------------------------------------------------------------

def _picture(before: dict[str, Any], after: dict[str, Any], topic: str, turn: int) -> str:
    """The clinical picture said in this turn: symptoms, duration, severity, onset."""
    present, denied = _new_symptoms(before, after)
    if topic in _HISTORY_TOPICS and _added(before, after, topic):
        present = []  # the lexicon reads "folic acid" as a symptom: the name is what was said
    duration = _changed(before, after, "duration")
    severity = _changed(before, after, "severity")
    score = _changed(before, after, "severity_score")
    onset = _changed(before, after, "onset")
    when = "" if not duration else (
        duration if duration.startswith(("since", "for")) else f"for {duration}")
    grade = f"{score} out of 10" if score else (severity or "")
    if present:
        text = _listed(present[:3]) + (f" {when}" if when else "")
        if grade:
            text += f", {grade}"
        if denied:
            text += f", and {_listed(denied[:2])}"
        return _pick(_SYMPTOM_FORMS, turn, text)
    facts = [x for x in (
        when, grade, {"sudden": "it started suddenly", "gradual": "it came on slowly"}.get(
            onset or "", ""), *denied[:3]) if x]
    return _pick(_DENIED_FORMS, turn, _listed(facts)) if facts else ""


def _history(before: dict[str, Any], after: dict[str, Any], topic: str, turn: int) -> str:
    """Allergies, medicines and long-standing illnesses said in this turn."""
    said = []
    for key, kind, none_key, none_kind in (
            ("allergies", "allergy", "no_allergies", "no_allergy"),
            ("medications", "medicine", "no_medications", "no_medicine"),
            ("conditions", "condition", "no_conditions", "no_condition")):
        if added := _added(before, after, key):
            said.append((kind, _listed([_PLAIN_CONDITIONS.get(n, n) for n in added])))
        # "No, nothing else" says none only of what was asked: the record may read more in it.
        elif _changed(before, after, none_key) and topic in ("", key):
            said.append((none_kind, ""))
    if len(said) == 1:
        kind, names = said[0]
        return _pick(_HISTORY_FORMS[kind], turn, names)
    items = {"allergy": "an allergy to {}", "no_allergy": "no allergies",
             "medicine": "you take {}", "no_medicine": "no medicines",
             "condition": "{}", "no_condition": "no long-standing illness"}
    said.sort(key=lambda item: item[0] != "condition")  # "diabetes, and you take metformin"
    listed = [items[k].format(n) for k, n in said]
    return f"Noted: {', '.join(listed[:-1])}, and {listed[-1]}." if said else ""


def _about_you(before: dict[str, Any], after: dict[str, Any], turn: int) -> str:
    """Age, sex, pregnancy, weight and readings said in this turn."""
    items = []
    if (age := _changed(before, after, "age_years")) is not None:
        months = round(age * 12)
        items.append(f"{months} months old" if age < 2 and months % 12 else
                     f"{_number(round(age))} years old")
    if (sex := _changed(before, after, "sex")) and not _changed(before, after, "pregnant"):
        items.append(sex)
    if after.get("pregnant") is not None and after.get("pregnant") != before.get("pregnant"):
        items.append("you're pregnant" if after["pregnant"] else "not pregnant")
    if (kg := _changed(before, after, "weight_kg")) is not None:
        items.append(f"{_number(kg)} kilograms")
    items += _readings(before.get("vitals") or {}, after.get("vitals") or {})
    return _pick(_READING_FORMS, turn, ", ".join(items)) if items else ""


def _readings(before: dict[str, float], after: dict[str, float]) -> list[str]:
    new = {k: v for k, v in after.items() if before.get(k) != v}
    items = []
    if (f := new.get("temperature_f")) is not None:
        celsius = round((f - 32) * 5 / 9, 1)
        # A Celsius reading is stored in °F: say the number the patient said.
        said = f if f == round(f) or round(celsius * 9 / 5 + 32, 1) != f else celsius
        items.append(f"{_number(said)} degrees")
    if "bp_systolic" in new and "bp_diastolic" in after:
        items.append(f"blood pressure {_number(new['bp_systolic'])} over "
                     f"{_number(after['bp_diastolic'])}")
    return items + [form.format(_number(new[key])) for key, form in (
        ("pulse_bpm", "pulse {}"), ("spo2_pct", "oxygen {} percent"), ("sugar_mg_dl", "sugar {}"))
        if key in new]


def _empathy(before: dict[str, Any], after: dict[str, Any], turn: int) -> str:
    present = [s for s in after.get("symptoms", []) if s["present"]]
    new_present = bool(_new_symptoms(before, after)[0])
    score = after.get("severity_score") or 0
    graded = _changed(before, after, "severity") or _changed(before, after, "severity_score")
    if graded and (after.get("severity") == "severe" or score >= 7):
        painful = any(_PAINFUL.search(s["name"]) for s in present)
        return _pick(_FEELINGS["painful" if painful else "severe"], turn, "")
    age = after.get("age_years")
    if age is not None and age < 12 and present and (
            new_present or _changed(before, after, "age_years") is not None):
        return _pick(_FEELINGS["child"], turn, "")
    days = after.get("duration_days") or 0
    fever = any(s["key"] == "fever" for s in present)
    new_fever = fever and not any(s["key"] == "fever" and s["present"]
                                  for s in before.get("symptoms", []))
    if fever and days >= 3 and (new_fever or _changed(before, after, "duration")):
        return _pick(_FEELINGS["long"], turn, "")
    return ""


def acknowledge(before: dict[str, Any], after: dict[str, Any], *, topic: str = "",
                turn: int = 0) -> str:
    """What was understood from one patient turn, in one or two short spoken sentences.

    Args:
        before: the intake record before the turn (``IntakeState.as_record()``).
        after: the intake record after it.
        topic: the topic of the question the turn answered (``NextStep.topic``).
        turn: chooses among equivalent phrasings, so a consultation does not repeat itself.

    Returns:
        The acknowledgement, or "" when nothing was understood from the turn.
    """
    sentences = [s for s in (_picture(before, after, topic, turn),
                             _history(before, after, topic, turn),
                             _about_you(before, after, turn)) if s]
    if not sentences and topic == "associated" and "associated" in before.get(
            "unanswered", []) and "associated" not in after.get("unanswered", []):
        sentences.append(_NO_MORE_SYMPTOMS)
    if not sentences and after.get("summary_confirmed") and not before.get("summary_confirmed"):
        sentences.append(_CONFIRMED)
    if after.get("complaint") and not before.get("complaint") and not _new_symptoms(
            before, after)[0]:
        sentences.insert(0, _UNWELL)  # a complaint in words the lexicon does not know
    if sentences and (feeling := _empathy(before, after, turn)):
        sentences.append(feeling)
    return " ".join(sentences)

