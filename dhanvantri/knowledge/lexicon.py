"""Deterministic symptom spotting in patient text, with negation ("no fever", "bukhar nahi hai").

Works on lowercase transcripts and PHI-redacted text (placeholders such as ``<PERSON_1>`` are
ignored). Every rule is a plain regular expression over the lexicon in ``data/symptoms.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from dhanvantri.knowledge.conditions import Symptom, load_symptoms

# A clause ends at punctuation or a conjunction that usually starts a new statement.
_CLAUSE_SPLIT = re.compile(r"[.;!?,\n]+|\bbut\b|\band\b|\balso\b|\bthough\b|\bhowever\b")
_NEGATION_BEFORE = re.compile(
    r"\b(no|not|never|without|denies|deny|none|nor|dont|don't|didnt|didn't|doesnt|doesn't|"
    r"havent|haven't|hasnt|hasn't|isnt|isn't|arent|aren't|wasnt|wasn't|free of|absent)\b")
_NEGATION_AFTER = re.compile(r"^\W*(\w+\W+){0,2}?(nahi|nahin|nai|na)\b")
_NEGATION_WINDOW_WORDS = 6
_PLACEHOLDER = re.compile(r"<[A-Z_]+(?:_\d+)?>")

_YES = re.compile(r"^\W*(yes|yeah|yep|yup|haan|han|ha|ji haan|ji|right|correct|sure|i do|it is|"
                  r"there is|there are|i have|a little|little bit|sometimes|slightly|mild|"
                  r"definitely|of course|true)\b")
_NO = re.compile(r"^\W*(no|nope|nah|nahi|nahin|not really|not at all|never|none|nothing|"
                 r"i don't|i dont|i do not|i haven't|i havent|there is no|there's no|not)\b")


@dataclass(frozen=True, slots=True)
class Finding:
    """A symptom mentioned in the text, present or explicitly denied."""

    symptom: str
    present: bool


def normalise(text: str) -> str:
    """Lowercase, drop PHI placeholders, straighten quotes and squeeze spaces."""
    text = _PLACEHOLDER.sub(" ", text).lower().replace("\u2019", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for symptom in load_symptoms().values():
        terms = sorted(symptom.terms, key=len, reverse=True)
        alternation = "|".join(re.escape(t) for t in terms)
        out.append((symptom.id, re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])")))
    return tuple(out)


def _negated(clause: str, start: int, end: int) -> bool:
    before = clause[:start].split()[-_NEGATION_WINDOW_WORDS:]
    if _NEGATION_BEFORE.search(" ".join(before)):
        return True
    return bool(_NEGATION_AFTER.search(clause[end:]))


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around ``text[start:end]``; boundaries inside the match itself do not count."""
    left, right = 0, len(text)
    for cut in _CLAUSE_SPLIT.finditer(text):
        if cut.end() <= start:
            left = cut.end()
        elif cut.start() >= end:
            right = cut.start()
            break
    return left, right


def find_symptoms(text: str) -> list[Finding]:
    """Every lexicon symptom in ``text``; a symptom both affirmed and denied counts as present."""
    text = normalise(text)
    found: dict[str, bool] = {}
    for sid, pattern in _patterns():
        for match in pattern.finditer(text):
            left, right = _clause_bounds(text, match.start(), match.end())
            clause = text[left:right]
            present = not _negated(clause, match.start() - left, match.end() - left)
            found[sid] = found.get(sid, False) or present
    return [Finding(sid, present) for sid, present in found.items()]


def answer_polarity(text: str) -> bool | None:
    """``True`` for a yes-answer, ``False`` for a no-answer, ``None`` when unclear."""
    text = normalise(text)
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


def symptom(symptom_id: str) -> Symptom:
    """The lexicon entry for an id (``KeyError`` if unknown)."""
    return load_symptoms()[symptom_id]
