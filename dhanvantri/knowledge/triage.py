"""Red-flag triage: deterministic detection of emergencies in a patient's words, every turn.

Pure Python and fast (compiled regular expressions, no model): it runs on every patient turn
before anything else. Each concept in :mod:`dhanvantri.knowledge.red_flags` is searched in the
normalised text; a match is dropped when it is negated ("no chest pain", "I don't have any
breathing difficulty"), historical ("the chest pain went away last year", "had fits as a child")
or hypothetical ("what if it's a stroke"). A flag fires when all the concepts of one of its
rules remain. An emergency gets a short spoken instruction: call 112 or 108, plus Tele-MANAS
14416 for suicidal thoughts, plus first aid for each flag.

Example::

    result = triage("my father has crushing chest pain and is sweating")
    result.emergency, result.red_flags  # True, ["chest_pain"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dhanvantri.knowledge.red_flags import CONCEPTS, RED_FLAGS

EMERGENCY_ADVICE = (
    "This could be an emergency. Call 112 or 108 for an ambulance now, or go to the nearest "
    "emergency department. Do not wait for this consultation."
)
MENTAL_HEALTH_ADVICE = (
    "You do not have to face this alone. Please call Tele-MANAS on 14416, free at any hour, or "
    "112 if you are in immediate danger."
)
_PRE_WINDOW_WORDS = 5
_POST_WINDOW_WORDS = 6

# Cues before a concept that negate it, make it hypothetical, or place it in someone's history.
_NEG_BEFORE = re.compile(
    r"\b(?:no|not|never|without|denies|denied|deny|dont|doesnt|didnt|isnt|wasnt|arent|werent|"
    r"havent|hasnt|hadnt|wont|nor|neither|free\s+of|negative\s+for|ruled\s+out|history\s+of|"
    r"died\s+(?:of|from)|if|in\s+case|what\s+if|worried\s+about|afraid\s+of|risk\s+of|"
    r"prevent\w*|how\s+long\s+(?:does|do|will|can)|how\s+to\s+(?:prevent|avoid|treat)|nahi|"
    r"nahin)\b"
)
# Cues after a concept that say it is over or in the past.
_NEG_AFTER = re.compile(
    r"\b(?:went\s+away|gone|resolved|subsided|settled|(?<!not\s)(?<!hasnt\s)(?<!havent\s)"
    r"(?<!never\s)stopped|better\s+now|fine\s+now|ok\s+now|okay\s+now|years?\s+ago|"
    r"months?\s+ago|last\s+(?:year|month)|in\s+the\s+past|in\s+(?:19|20)\d\d|"
    r"as\s+an?\s+(?:child|kid|teen\w*|baby)|when\s+i\s+was\s+(?:young|a\s+child|little|a\s+kid|"
    r"a\s+teen\w*|in\s+school)|nahi|nahin|nai|not\s+anymore|no\s+more|none\s+for|"
    r"been\s+fine|fine\s+since|since\s+then)\b"
)
# A new assertion starts after these, so an earlier negation does not reach past them.
_SCOPE_BREAK = re.compile(
    r"\b(?:but|however|although|though|except|yet|now|then|suddenly|today|i\s+have|i\s+am|im|"
    r"i\s+feel|i\s+think|he\s+has|she\s+has|he\s+is|she\s+is|there\s+is|theres)\b"
)
# A full stop inside a number ("2.5 tablets") does not end a sentence.
_SENTENCE_END = re.compile(r"[.;!?](?!\d)|\n")


@dataclass(frozen=True, slots=True)
class TriageResult:
    """Whether a turn is an emergency, which red flags fired, and what to tell the patient."""

    emergency: bool
    red_flags: list[str] = field(default_factory=list)
    advice: str = ""
    escalation_reason: str = ""
    # The advice as its fixed texts, in the order said (each from :func:`fixed_advice`).
    advice_parts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``dhanvantri triage --json``."""
        return {"emergency": self.emergency, "red_flags": list(self.red_flags),
                "advice": self.advice, "escalation_reason": self.escalation_reason}


@cache
def _compiled() -> dict[str, re.Pattern[str]]:
    return {name: re.compile(rf"\b(?:{'|'.join(alternatives)})")
            for name, alternatives in CONCEPTS.items()}


def normalise(text: str) -> str:
    """Lower-case, drop apostrophes (``can't`` -> ``cant``), keep sentence ends, squash spaces."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    text = re.sub(r"[^\w.;!?\n]+", " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def _negated(text: str, start: int, end: int) -> bool:
    ends_before = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    before = text[ends_before[-1] if ends_before else 0:start]
    breaks = list(_SCOPE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end():]
    if _NEG_BEFORE.search(" ".join(before.split()[-_PRE_WINDOW_WORDS:])):
        return True
    stop = _SENTENCE_END.search(text, end)
    after = text[end:stop.start() if stop else len(text)]
    return bool(_NEG_AFTER.search(" ".join(after.split()[:_POST_WINDOW_WORDS])))


def present_concepts(text: str) -> set[str]:
    """The concepts asserted in ``text`` (already normalised), negated mentions left out."""
    found = set()
    for name, pattern in _compiled().items():
        for match in pattern.finditer(text):
            if not _negated(text, match.start(), match.end()):
                found.add(name)
                break
    return found


def triage(text: str) -> TriageResult:
    """Check one patient turn for red flags.

    Args:
        text: What the patient said (typed, or speech-to-text output in any case, with or
            without punctuation).

    Returns:
        ``emergency`` with the red-flag ids, the spoken advice and the escalation reason; a
        non-emergency result has empty ``red_flags`` and ``advice``.
    """
    concepts = present_concepts(normalise(text))
    fired = [flag for flag in RED_FLAGS
             if any(all(c in concepts for c in rule) for rule in flag.rules)]
    if not fired:
        return TriageResult(emergency=False)
    reason = "Red flags: " + "; ".join(f.label for f in fired) + "."
    parts = advice_for([f.id for f in fired])
    return TriageResult(emergency=True, red_flags=[f.id for f in fired], advice=" ".join(parts),
                        escalation_reason=reason, advice_parts=parts)


def advice_for(red_flags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """What to say for these red flags (ids): the call for help first, then each first aid."""
    fired = [flag for flag in RED_FLAGS if flag.id in red_flags]
    parts = [MENTAL_HEALTH_ADVICE] if any(f.id == "suicidal" for f in fired) else []
    parts.append(EMERGENCY_ADVICE)
    return (*parts, *(f.first_aid for f in fired))


def fixed_advice() -> tuple[str, ...]:
    """Every text an emergency's advice is made of, openings first (worth speaking in advance)."""
    return (EMERGENCY_ADVICE, MENTAL_HEALTH_ADVICE, *(f.first_aid for f in RED_FLAGS))
