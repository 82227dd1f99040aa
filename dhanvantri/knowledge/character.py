"""What a symptom is like ("dry" cough, "throbbing" headache) and how the complaint began.

Takes (PHI-redacted, normalised) patient text; returns what the words say, or None.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The lexicon's own term patterns: where a symptom is named is where its character is said.
from dhanvantri.knowledge.lexicon import _patterns as _symptom_terms

# --- what a symptom is like, and how it began ----------------------------------------------------
_PAINS = {"headache", "eye_pain", "body_ache", "joint_pain", "chest_pain", "ear_pain",
          "facial_pain", "abdominal_pain", "lower_abdominal_pain", "anal_pain", "period_pain",
          "back_pain", "knee_pain", "calf_pain", "sore_throat", "one_sided_headache",
          "band_headache", "leg_radiation"}
_PAIN_CHARACTER = (  # most telling first: "sharp stabbing pain" is stabbing
    ("throbbing", r"throbbing|pounding|pulsating|pulsing"),
    ("stabbing", r"stabbing|like a knife|knife like|piercing"),
    ("shooting", r"shooting|electric|like a current"),
    ("burning", r"burning|jalan"),
    ("cramping", r"cramping|cramps?|crampy|colicky|comes in waves|marod|aithan|ainthan"),
    ("pressing", r"pressing|(?<!blood )pressure|squeezing|crushing|tight|tightness|heavy|"
                 r"heaviness"),
    ("sharp", r"sharp"),
    ("dull", r"dull"),
)
_CHARACTERS = {
    **{key: _PAIN_CHARACTER for key in _PAINS},
    "cough": (("with blood-stained phlegm", r"(blood|bloody|khoon)"),
              ("with green phlegm", r"green"), ("with yellow phlegm", r"yellow"),
              ("with white phlegm", r"white|clear"),
              ("with phlegm", r"phlegm|sputum|mucus|balgam|wet|productive|chesty"),
              ("barking", r"barking|bark|croupy"), ("dry", r"dry|sukhi|sookhi")),
    "diarrhoea": (("with blood", r"blood|bloody|khoon"), ("with mucus", r"mucus|slimy|aav"),
                  ("watery", r"watery|like water|paani jaisa|pani jaisa")),
    "vomiting": (("with blood", r"blood|bloody|khoon"), ("projectile", r"projectile|forceful"),
                 ("yellow or green", r"yellow|green|bile")),
    # Chills are a symptom of their own in the lexicon, so not a character of the fever.
    "fever": (("high grade", r"high grade|very high|tez"), ("low grade", r"low grade|halka")),
}
_CHARACTER_PATTERNS = {key: tuple((label, re.compile(rf"(?<![\w-])(?:{rx})(?![\w-])"))
                               for label, rx in rows) for key, rows in _CHARACTERS.items()}
# Words that stand for the symptom when it is not named again: "the pain is sharp", "it is
# dry" (the caller takes "it" only when one symptom it knows fits the word).
_GENERIC = {**{key: r"pain|ache|aches|hurts|hurting|dard|it|it's|its" for key in _PAINS},
            "cough": r"it|it's|its", "fever": r"it|it's|its",
            "diarrhoea": r"stools?|motions?|potty|it|it's|its"}
_CHARACTER_CLAUSE = re.compile(r"[.;!?,]+|\bbut\b|\band\b|\balso\b")
_NEGATED_WORD = re.compile(r"\b(not|no|never|nahi)\s+(\w+\s+)?$")

_SUDDEN = re.compile(r"\b(sudden|suddenly|all of a sudden|out of nowhere|abrupt|abruptly|"
                     r"achanak|ekdum se|thunderclap)\b")
_GRADUAL = re.compile(r"\b(gradual|gradually|little by little|bit by bit|slowly (getting|got|"
                      r"became|increased|increasing|worse|started|came|building)|came on slowly|"
                      r"started slowly|slowly over|over (some|a few|several) (days|weeks)|"
                      r"dheere dheere|dhire dhire|dheere se)\b")


def character(text: str, symptom_key: str, *, stand_in: bool = True) -> str | None:
    """What the symptom is like ("throbbing", "dry", "watery"), said in the same clause as the
    symptom's name; else, with ``stand_in``, said of a word standing for it that names no other
    symptom ("the pain is sharp", "it is dry"): the caller decides whose pain that is."""
    rows = _CHARACTER_PATTERNS.get(symptom_key)
    if not rows:
        return None
    named = _named_spans(text)
    others = [span for key, spans in named.items() if key != symptom_key for span in spans]
    found = _described(text, named.get(symptom_key, []), rows, others)
    if found or not stand_in or symptom_key not in _GENERIC:
        return found
    words = [m.span() for m in re.finditer(rf"\b(?:{_GENERIC[symptom_key]})\b", text)
             if not any(a <= m.start() < b for a, b in others)]
    return _described(text, words, rows, others)


@lru_cache(maxsize=4)  # the intake asks about each symptom it knows in the same text
def _named_spans(text: str) -> dict[str, list[tuple[int, int]]]:
    """Where each lexicon symptom is named in ``text``."""
    found: dict[str, list[tuple[int, int]]] = {}
    for key, pattern in _symptom_terms():
        if spans := [m.span() for m in pattern.finditer(text)]:
            found[key] = spans
    return found


def _described(text: str, spans: list[tuple[int, int]],
               rows: tuple[tuple[str, re.Pattern[str]], ...],
               others: list[tuple[int, int]]) -> str | None:
    """The first character word in the clause of one of ``spans``."""
    for start, end in spans:
        left, right = _clause_around(text, start, end)
        # A word inside a longer name of another symptom is that symptom's ("burning while
        # passing urine" says nothing about a stomach ache), unless that name holds this
        # symptom too ("throbbing headache").
        foreign = [(a, b) for a, b in others if not (a < end and start < b)]
        for label, pattern in rows:
            for word in pattern.finditer(text, left, right):
                if _NEGATED_WORD.search(text[left:word.start()]) or any(
                        a <= word.start() < b and (a, b) != word.span() for a, b in foreign):
                    continue
                return label
    return None


def _clause_around(text: str, start: int, end: int) -> tuple[int, int]:
    left, right = 0, len(text)
    for cut in _CHARACTER_CLAUSE.finditer(text):
        if cut.end() <= start:
            left = cut.end()
        elif cut.start() >= end:
            return left, cut.start()
    return left, right


def onset(text: str) -> str | None:
    """``"sudden"`` or ``"gradual"`` when the patient says how the complaint began."""
    for label, pattern in (("gradual", _GRADUAL), ("sudden", _SUDDEN)):
        for match in pattern.finditer(text):
            if not _NEGATED_WORD.search(text[:match.start()]):
                return label
    return None
