"""Person names in typed text and in lowercase transcripts.

spaCy's English NER finds capitalised names in typed text but misses "this is rajesh kumar
calling". This recogniser adds what a listener uses: the phrases people introduce a name with
("my name is", "myself", "this is ... calling", "my son ...", titles), a lexicon of common Indian
given names and surnames, and capitalisation when the text has it. Words that are clinical
vocabulary or everyday English are never taken as a name, so "i am diabetic" stays untouched.
"""

from __future__ import annotations

import re

from dhanvantri.privacy.entities import PERSON, Entity
from dhanvantri.privacy.lexicon import Lexicon, lexicon

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")

# Phrases after which the next word is taken as a name even when no list knows it.
_STRONG_CUES = [
    "my name is", "my name's", "name is", "myself", "call me", "mera naam", "mera naam hai",
    "patient name", "patient name is", "patient's name is", "name of the patient is", "named",
    "mr", "mrs", "ms", "miss", "dr", "doctor", "shri", "shree", "sri", "smt", "kumari", "master",
    "mister", "missus",
]
# Phrases after which a word is a name only if the lexicon knows it or it is capitalised.
_WEAK_CUES = ["this is", "i am", "i'm", "im", "it's", "here is", "patient is", "with", "for"]
_RELATIONS = (
    "son daughter wife husband mother father brother sister friend child baby grandson "
    "granddaughter grandmother grandfather mom dad uncle aunt mummy papa nephew niece"
).split()
for _rel in _RELATIONS:
    _WEAK_CUES += [f"my {_rel}", f"my {_rel} is", f"my {_rel}'s name is"]
    _STRONG_CUES += [f"my {_rel} named", f"my {_rel} called", f"my {_rel}'s name is"]
# Words after a name that confirm it ("rajesh here", "this is anil calling").
_POST_CUES = frozenset(["calling", "speaking", "here", "ji", "sahab", "saheb"])

_STRONG = {tuple(c.split()) for c in _STRONG_CUES}
_WEAK = {tuple(c.split()) for c in _WEAK_CUES} - _STRONG
_MAX_CUE = max(len(c) for c in _STRONG | _WEAK)
_MAX_NAME_WORDS = 4


def find_names(text: str) -> list[Entity]:
    """Person names found by cue phrases and the name lexicon."""
    lex = lexicon()
    words = list(_WORD.finditer(text))
    lower = [w.group().lower() for w in words]
    found: list[Entity] = []
    i = 0
    while i < len(words):
        cue = _cue_before(lower, i)
        span = _name_span(text, words, lower, i, cue, lex)
        if span is None:
            i += 1
            continue
        end_i, score = span
        start, end = words[i].start(), words[end_i - 1].end()
        found.append(Entity(PERSON, start, end, score, text[start:end]))
        i = end_i
    return found


def _cue_before(lower: list[str], i: int) -> str | None:
    """'strong', 'weak' or None: the strongest cue phrase that ends right before word ``i``."""
    for size in range(min(_MAX_CUE, i), 0, -1):
        phrase = tuple(lower[i - size : i])
        if phrase in _STRONG:
            return "strong"
        if phrase in _WEAK:
            return "weak"
    return None


def _usable(word: str, lex: Lexicon) -> bool:
    """A word that could be part of a name: not clinical, not everyday English."""
    return len(word) > 1 and word not in lex.common and word not in lex.clinical


def _joined(text: str, words: list[re.Match[str]], k: int) -> bool:
    """Whether word ``k`` follows word ``k-1`` with only spaces (or an initial's full stop)."""
    gap = text[words[k - 1].end() : words[k].start()]
    if gap.strip() == "." and len(words[k - 1].group()) == 1:
        return len(gap) <= 2
    return gap.isspace() and len(gap) <= 2


def _name_span(
    text: str,
    words: list[re.Match[str]],
    lower: list[str],
    i: int,
    cue: str | None,
    lex: Lexicon,
) -> tuple[int, float] | None:
    """(index after the last name word, score) for a name starting at word ``i``, if any."""
    first, raw = lower[i], words[i].group()
    if not _usable(first, lex) and first not in lex.given:
        return None
    known = lex.is_name(first)
    capital = raw[0].isupper() and not raw.isupper()
    post = i + 1 < len(lower) and lower[i + 1] in _POST_CUES
    if cue == "strong" or (cue == "weak" and post):
        score = 0.85
    elif cue == "weak" and (known or capital):
        score = 0.85 if known else 0.7
    elif post and known:
        score = 0.7
    elif known and first not in lex.ambiguous:
        score = 0.6 if first in lex.given else 0.5
    else:
        return None
    end = i + 1
    while end < len(words) and end - i < _MAX_NAME_WORDS and _joined(text, words, end):
        word, raw = lower[end], words[end].group()
        if word in _POST_CUES or not _usable(word, lex):
            break
        if lex.is_name(word) or (raw[0].isupper() and capital) or (
            cue == "strong" and not word.endswith(("ing", "ly"))
        ):
            end += 1
            continue
        break
    if end - i >= 2 and score < 0.75:
        score = 0.75  # two known name words in a row are rarely anything else
    return end, score
