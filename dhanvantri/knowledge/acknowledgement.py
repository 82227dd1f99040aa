"""What the assistant understood from the patient's last turn, said before the next question.

:func:`acknowledge` restates the facts the intake took from one turn ("Fever and body ache for
three days.", "Noted: you're allergic to penicillin.", "101 degrees — thank you."), from two
:meth:`~dhanvantri.knowledge.intake.IntakeState.as_record` dicts, with empathy where the turn
calls for it. It is built from the record, so it names only what the patient said and holds no
private detail (the record has no names). No diagnosis, advice, dose or reassurance.

:func:`problems` checks any other sentence meant for that place (a model's paraphrase): a
patient must not hear minimising, reassurance, a diagnosis, a medicine or a dose, a fact they
did not give, a question, or a sentence unrelated to what they said.
"""

from __future__ import annotations

import re
from typing import Any

from dhanvantri.knowledge.intake import NextStep
from dhanvantri.knowledge.lexicon import find_symptoms, normalise
from dhanvantri.knowledge.phrasing import problems as phrasing_problems

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
        if names := _added(before, after, key):
            said.append((kind, _listed([_PLAIN_CONDITIONS.get(n, n) for n in names])))
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


# --- checking a sentence for this place --------------------------------------------------------

_MINIMISING = re.compile(
    r"\b(not uncommon|(very |quite |pretty )?common|just|only an?|nothing serious|not serious|"
    r"no big deal|happens to (everyone|everybody|all of us)|a little bit|minor|simply|"
    r"not (too |that |very )?(serious|bad)|after a long day)\b", re.I)
_CHEER = re.compile(r"\b(glad|happy|great|wonderful|lucky|good news|congratulations|"
                    r"on the right track)\b", re.I)
# The small model often answers as if it were the patient ("No, I am 32.").
_AS_PATIENT = re.compile(r"\b(my|i (am|have|feel|had|get|take|was)(?! (so |very |really )?"
                         r"(sorry|noted|written|got that))|i'm (?!(so |very |really )?sorry))\b",
                         re.I)
# Markup, lists and echoed instructions: not something to say aloud.
_UNSPEAKABLE = re.compile(r"[()\[\]{}*#=<>\\/|\n]")
_REASSURING = re.compile(
    r"\b(don'?t worry|do not worry|no need to worry|nothing to worry|(you'?ll|you will) be "
    r"(fine|ok|okay|alright|all right)|(it|you)('?s| is| are|'re) (fine|ok|okay|alright|"
    r"all right)|will (pass|go away|settle|get better)|should be fine|be (fine|okay) soon)\b",
    re.I)
# Plain empathy needs no fact to lean on; anything else must share a word with the turn.
_EMPATHY_PIECE = (
    r"(oh|okay|ok|alright|all right|i see|i understand|noted|thank you( for (telling me|"
    r"sharing that|letting me know|confirming))?|thanks|"
    r"(i(?:'m| am) )?(so |very |really )?sorry( to hear( that| this| about that)?| you(?:'re| are) "
    r"(going through|dealing with) (that|this)| it'?s so bad|( that)? you(?:'re| are)? "
    r"(feel|feeling) (unwell|ill|sick|poorly|bad))?|"
    r"that (sounds|must be|must feel|is) (really |very |so )?(hard|difficult|painful|tough|"
    r"uncomfortable|worrying|rough|unpleasant|tiring|exhausting|frightening|scary))")
_PLAIN_EMPATHY = re.compile(
    rf"^\s*{_EMPATHY_PIECE}(\s*[,.;—-]?\s*(and\s+)?{_EMPATHY_PIECE})*\s*[.!]?\s*$", re.I)
# Wording no acknowledgement may have: (kind, pattern, allowed when the patient said it too).
_WORDING = (("a question", re.compile(r"\?"), False), ("minimising", _MINIMISING, True),
            ("reassurance", _REASSURING, False), ("cheer", _CHEER, True),
            ("not speakable", _UNSPEAKABLE, False), ("speaks as the patient", _AS_PATIENT, False))
_OWN_FEELINGS = {f for forms in _FEELINGS.values() for f in forms}
_STOP = set(
    "a an the and or but so of to in on at for with from by is are was were be been am i you "
    "your my me it its this that these those there here have has had do does did not no yes "
    "okay ok thank thanks noted sorry hear understand see sounds sound must right correct sure "
    "fine good feel very really quite also too as well what when how then than which who will "
    "would can could should may might let just now today about got it've".split())
_WORD = re.compile(r"[a-z0-9]+(?:\.\d+)?")
# "One" is left out: "no one else", "one-sided" are no count.
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}


def _stem(word: str) -> str:
    return word.rstrip("s")[:5]  # "allergic" and "allergies" meet at "aller"


def _content(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if (w not in _STOP and len(w) > 2)
            or w.replace(".", "").isdigit()}


def _numbers(text: str) -> set[str]:
    words = _WORD.findall(normalise(text))
    return {_number(float(w)) for w in words if w.replace(".", "").isdigit()} | {
        _NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS}


def _record_numbers(record: dict[str, Any]) -> set[str]:
    values = [record.get(k) for k in ("duration_days", "severity_score", "age_years",
                                      "weight_kg")]
    values += list((record.get("vitals") or {}).values())
    found = {_number(float(v)) for v in values if v is not None}
    found |= {_number(round(float(v))) for v in values if v is not None}
    if (f := (record.get("vitals") or {}).get("temperature_f")) is not None:
        found.add(_number(round((f - 32) * 5 / 9, 1)))
    found |= _numbers(record.get("duration") or "")
    return found | {"10"}  # "out of 10"


# The words that say a kind of fact, grounded when that fact is new in the turn.
_FACT_WORDS = {
    "no_allergies": "allergies allergic", "allergies": "allergy allergic",
    "no_medications": "medicines medication regular moment", "medications": "take taking",
    "no_conditions": "long-standing illness condition", "conditions": "illness problem",
    "pregnant": "pregnant pregnancy", "age_years": "years old months", "sex": "sex",
    "weight_kg": "kilograms kilos weight", "severity_score": "out of", "onset": "started came",
    "summary_confirmed": "confirming", "temperature_f": "degrees temperature",
    "bp_systolic": "blood pressure over", "pulse_bpm": "pulse", "spo2_pct": "oxygen percent",
    "sugar_mg_dl": "sugar"}


def _new_words(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The facts new in ``after`` as words (labels and names), to ground a sentence in."""
    old = _symptoms(before)
    words = [s["name"] + " " + (s.get("character") or "") for s in after.get("symptoms", [])
             if old.get(s["key"]) != s]
    for key in ("allergies", "medications", "conditions"):
        words += _added(before, after, key)
    words += [str(after.get(k)) for k in ("duration", "severity", "sex", "onset")
              if after.get(k) != before.get(k)]
    words += [_PLAIN_CONDITIONS.get(n, "") for n in _added(before, after, "conditions")]
    words += [said for key, said in _FACT_WORDS.items()
              if after.get(key) is not None and after.get(key) != before.get(key)]
    if "associated" in set(before.get("unanswered", [])) - set(after.get("unanswered", [])):
        words.append("other symptoms")
    vitals = {k for k, v in (after.get("vitals") or {}).items()
              if (before.get("vitals") or {}).get(k) != v}
    return " ".join([*words, *(_FACT_WORDS[k] for k in vitals if k in _FACT_WORDS)])


def _unsafe_wording(text: str, heard: str) -> list[str]:
    """Dose, diagnostic wording and medicine or illness names the patient did not say."""
    step = NextStep("summarise", "", "")
    for _ in range(5):  # phrasing reports one name at a time
        found = phrasing_problems(text, step)
        said = [m.group(1) for f in found if (m := re.fullmatch(r"names '(.+)'", f))
                and m.group(1).lower() in heard]
        if not said:
            return found
        text = re.sub(re.escape(said[0]), "", text, flags=re.I)
    return found


def problems(text: str, before: dict[str, Any], after: dict[str, Any], heard: str) -> list[str]:
    """Why ``text`` may not be spoken as the acknowledgement of a turn (empty list: it may).

    Args:
        text: the candidate sentence (a model's paraphrase).
        before: the intake record before the turn (may be empty when only words are known).
        after: the intake record after it (likewise).
        heard: the patient's (PHI-redacted) words in the turn.
    """
    plain = _PHI_TOKEN.sub("", text).strip()  # placeholders are the patient's own details
    if not plain:
        return ["empty"]
    found = ["too long"] if len(plain.split()) > MAX_WORDS else []
    found += [kind for kind, pattern, echo in _WORDING
              if pattern.search(plain) and not (echo and pattern.search(heard))]
    # Names the patient gave (a medicine they take, an illness they have) may be said back.
    own = " ".join([normalise(heard), *after.get("allergies", []),
                    *after.get("medications", []), *after.get("conditions", [])]).lower()
    found += _unsafe_wording(plain, own)
    found += _invented(plain, after, heard)
    facts = _content(heard) | _content(_new_words(before, after))
    empathy = _PLAIN_EMPATHY.match(plain) or plain in _OWN_FEELINGS
    if not empathy and not _content(plain) & facts:
        found.append("non-sequitur")
    elif not empathy and len(_content(plain) - facts) > 1:  # one paraphrased word is fine
        found.append(f"words not from the turn: {', '.join(sorted(_content(plain) - facts))}")
    return found


def _invented(plain: str, after: dict[str, Any], heard: str) -> list[str]:
    """A number or a symptom that is neither in the patient's words nor in the record."""
    found = []
    if invented := _numbers(plain) - _numbers(heard) - _record_numbers(after):
        found.append(f"invented number {sorted(invented)[0]}")
    labels = " . ".join(s["name"] for s in after.get("symptoms", []))
    known = {s["key"] for s in after.get("symptoms", [])} | {
        f.symptom for f in find_symptoms(normalise(f"{heard} . {labels}"))}
    if after.get("vitals") or after.get("conditions"):
        known |= _HISTORY_SYMPTOMS  # "blood pressure 140 over 90" is a reading, not a symptom
    if invented_symptoms := {f.symptom for f in find_symptoms(normalise(plain))} - known:
        found.append(f"invented symptom {sorted(invented_symptoms)[0]}")
    return found
