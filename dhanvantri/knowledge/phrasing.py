"""Letting a language model phrase the next question, and checking what it wrote.

The clinical logic decides *what* to ask (:class:`~dhanvantri.knowledge.intake.NextStep`); the
model only makes it sound natural. A small local model volunteers diagnoses and drug names, so
its text is used only when :func:`checked_phrasing` finds nothing a patient must not hear before
a physician signs: no medicine, no dose, no condition name, no diagnostic wording. Otherwise the
plain default question is spoken. A stronger model behind the same API passes the check more
often, so the conversation gets better without becoming less safe.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dhanvantri.knowledge.conditions import load_conditions, load_symptoms
from dhanvantri.knowledge.intake import NextStep

MAX_WORDS = 45
_DOSE = re.compile(r"\b\d+(\.\d+)?\s*(mg|mcg|µg|g|ml|iu|units?|tablets?|tabs?|capsules?|"
                   r"puffs?|drops?)\b", re.I)
_DIAGNOSTIC = re.compile(r"\b(diagnos\w*|you (probably |likely |may |might |could )?(have|are "
                         r"suffering from|got) (a |an )?(infection|disease|condition)|"
                         r"it (is|sounds like|looks like|could be|might be|may be) "
                         r"(a |an )?\w+ (infection|disease|fever)|prescri\w*|medicine for|"
                         r"(you should|please|i suggest you|i recommend you) take)\b", re.I)
# Condition aliases that are also everyday words in a history question.
_EVERYDAY_WORDS = {"sugar", "cold", "bp", "gas", "acid", "weakness", "thyroid", "worms", "boil",
                   "boils", "sprain"}
_SYSTEM = ("You are a polite clinic assistant on a phone call. Rephrase the question you are "
           "given in one short, friendly sentence in simple English. Ask only that question. "
           "Never mention any illness name, diagnosis, medicine or dose.")


@lru_cache(maxsize=1)
def _forbidden_words() -> re.Pattern[str]:
    words: set[str] = set()
    for condition in load_conditions():
        words.update(m.generic.split()[0] for m in condition.medicines)
        words.add(condition.title.lower())
        words.update(a.lower() for a in condition.aliases)
    try:
        from dhanvantri.knowledge.medicines import load_medicines

        for med in load_medicines():
            words.add(med.generic.lower())
            words.update(b.lower() for b in med.brands)
    except (ImportError, TypeError):  # the medicine table is optional here
        pass
    # Words patients use for symptoms ("fever", "cough", "piles") may be asked about.
    symptom_words = {t for s in load_symptoms().values() for t in s.terms}
    symptom_words |= {s.label for s in load_symptoms().values()} | _EVERYDAY_WORDS
    words = {w for w in words if w and w not in symptom_words and len(w) > 2}
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.I)


def phrasing_messages(step: NextStep) -> list[dict[str, str]]:
    """Chat messages asking a model to rephrase ``step.question`` (short prompt on purpose)."""
    return [{"role": "system", "content": _SYSTEM},
            {"role": "user", "content": f"Question: {step.question}"}]


def problems(text: str, step: NextStep) -> list[str]:
    """Why a model's phrasing may not be spoken (empty list: it may)."""
    found = []
    if not text.strip():
        found.append("empty")
    if len(text.split()) > MAX_WORDS:
        found.append("too long")
    if _DOSE.search(text):
        found.append("mentions a dose")
    if match := _forbidden_words().search(text):
        found.append(f"names {match.group(0)!r}")
    if _DIAGNOSTIC.search(text):
        found.append("diagnostic or prescribing wording")
    if step.kind == "ask" and "?" not in text:
        found.append("not a question")
    return found


def checked_phrasing(step: NextStep, model_text: str | None) -> str:
    """The model's phrasing when it passes every check, else the default question."""
    if model_text is None:
        return step.question
    text = model_text.strip().strip('"').strip()
    return text if not problems(text, step) else step.question
