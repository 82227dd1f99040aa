"""Checking a sentence meant to acknowledge the patient's turn (a model's paraphrase).

A patient must not hear minimising, reassurance, a diagnosis, a medicine or a dose, a fact they
did not give, a question, or a sentence unrelated to what they said.
"""

from __future__ import annotations

import re
from typing import Any

from dhanvantri.knowledge.acknowledgement import (
    _FEELINGS,
    _HISTORY_SYMPTOMS,
    _PHI_TOKEN,
    _PLAIN_CONDITIONS,
    MAX_WORDS,
    _added,
    _number,
    _symptoms,
)
from dhanvantri.knowledge.intake import NextStep
from dhanvantri.knowledge.lexicon import find_symptoms, normalise
from dhanvantri.knowledge.phrasing import problems as phrasing_problems

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
