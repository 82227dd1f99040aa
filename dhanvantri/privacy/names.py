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

_WORD = re.compile(r"\b[A-Za-z][A-Za-z']*\b")  # "SpO2" is not a word here

# Phrases after which the next word is taken as a name even when no list knows it.
_STRONG_CUES = [
    "my name is",
    "my name's",
    "name is",
    "myself",
    "call me",
    "mera naam",
    "mera naam hai",
    "patient name",
    "patient name is",
    "patient's name is",
    "name of the patient is",
    "named",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "doctor",
    "shri",
    "shree",
    "sri",
    "smt",
    "kumari",
    "master",
    "mister",
    "missus",
    "name",
    "naam",
    "this side",
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
# Words that follow a name when a relative is introduced ("my son aarav has fever").
_AFTER_NAME = frozenset(
    "has had is was got gets and who age aged years took takes complains needs also".split()
)
_PHRASE_BREAKS = frozenset(
    "and from i my with age aged calling speaking here this is the but so he she they has had "
    "was who".split()
)
# Words after a name that confirm it ("rajesh here", "this is anil calling", "sharma ji").
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
        span = _name_span(text, words, lower, i, cue, lex) or _capitalised_run(text, words, i, lex)
        if span is None:
            i += 1
            continue
        end_i, score = span
        first = i
        if (
            i > 0
            and lower[i] in lex.surnames
            and lower[i] not in lex.given
            and _joined(text, words, i)
            and _plain(lower[i - 1], lex)
            and words[i - 1].group()[0].isupper() == words[i].group()[0].isupper()
            and (not found or found[-1].end < words[i - 1].start())
        ):
            first = i - 1  # "Bhupinder Verma", "tanvir verma": a given name we lack, then a surname
            score = max(score, 0.75)
        start, end = words[first].start(), words[end_i - 1].end()
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
    if not _usable(first, lex) or first in _POST_CUES:
        return None
    # The longest run of words that could form a name, and whether "calling"/"here" follows it.
    run_end = i + 1
    while (
        run_end < len(words)
        and run_end - i < _MAX_NAME_WORDS
        and _joined(text, words, run_end)
        and _usable(lower[run_end], lex)
        and lower[run_end] not in _POST_CUES
    ):
        run_end += 1
    post = run_end < len(words) and lower[run_end] in _POST_CUES and _joined(text, words, run_end)
    known = lex.is_name(first)
    capital = raw[0].isupper() and not raw.isupper()
    if post:
        return run_end, 0.85 if cue or known else 0.7
    if cue == "strong":
        end = i + 1
        while end < run_end and not lower[end].endswith(("ing", "ly")):
            if capital and not words[end].group()[0].isupper():
                break  # typed text capitalises every part of a name
            end += 1
        return end, 0.85
    if cue == "weak":
        if known or capital:
            score = 0.85 if known else 0.7
        elif i + 1 < run_end and lower[i + 1] in lex.surnames:
            score = 0.8  # "i am tenzin reddy": an unknown given name before a known surname
        elif _relation_before(lower, i):
            # "my daughter tanvi has ...", "my mother ishwari kothandaraman is 70": a relative's
            # name is the words up to the verb or pronoun that follows it.
            end = i + 1
            while end < run_end and end - i < 3 and _plain(lower[end], lex):
                end += 1
            if end < len(lower) and lower[end] in _AFTER_NAME | _PHRASE_BREAKS:
                return end, 0.7
            return None
        elif i + 1 < run_end and _plain(lower[i + 1], lex) and _ends_phrase(lower, i + 2, lex):
            return i + 2, 0.6  # "i am jothika nambiar and ...": two unknown words, then a break
        else:
            return None
    elif known and first not in lex.ambiguous:
        score = 0.6 if first in lex.given else 0.5
    else:
        return None
    end = i + 1
    while end < run_end and (
        lex.is_name(lower[end])
        or (capital and words[end].group()[0].isupper())
        or (score == 0.8 and end == i + 1)
    ):
        end += 1
    if cue == "weak" and known and end == i + 1 < run_end and _ends_phrase(lower, i + 2, lex):
        end += 1  # "i am fatima acharya and ...": a known given name, then a surname we lack
    if end - i >= 2 and score < 0.75:
        score = 0.75  # two known name words in a row are rarely anything else
    return end, score


def _ends_phrase(lower: list[str], k: int, lex: Lexicon) -> bool:
    """Whether word ``k`` ends the phrase: the text ends, or a function or clinical word follows."""
    return k >= len(lower) or lower[k] in _PHRASE_BREAKS or not _plain(lower[k], lex)


def _plain(word: str, lex: Lexicon) -> bool:
    """A word no list explains: not clinical, everyday, a place or a street word."""
    return _usable(word, lex) and not (
        word in lex.cities
        or word in lex.states
        or word in lex.street_strong
        or word in lex.street_weak
    )


def _capitalised_run(
    text: str, words: list[re.Match[str]], i: int, lex: Lexicon
) -> tuple[int, float] | None:
    """Two or three capitalised words no list explains, in typed text: "Oviya Acharya has"."""
    end = i
    while (
        end < len(words)
        and end - i < 3
        and (end == i or _joined(text, words, end))
        and _is_title(words[end].group())
        and _plain(words[end].group().lower(), lex)
    ):
        end += 1
    return (end, 0.6) if end - i >= 2 else None


def _is_title(word: str) -> bool:
    return word[0].isupper() and word[1:].islower()


def _relation_before(lower: list[str], i: int) -> bool:
    return any(w in _RELATIONS for w in lower[max(0, i - 2) : i])
