"""Hear the clinical words right: put back a vocabulary term Whisper was unsure of and misheard.

Whisper base turns clinical words it does not expect into ordinary ones that sound alike
("fever" -> "femur", "metformin" -> "met from in"). Those words come out with a low probability,
so a run of one to four unsure words that sounds like a clinical term (see
:mod:`dhanvantri.knowledge.hearing_sounds`) is replaced by it. Words Whisper was sure of, words
that are clinical terms already, and answers the question expects are never changed, and a
negation is never invented. Terms that were corrected or heard unsure are returned so the
assistant can check them with the patient.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from rapidfuzz import fuzz, process

from dhanvantri.knowledge.hearing_sounds import (
    coarse_key,
    learn,
    similarity,
    similarity_bound,
    sound_key,
)
from dhanvantri.knowledge.hearing_vocabulary import (
    BRAND,
    CUE,
    NEGATIONS,
    Term,
    clinical_vocabulary,
    listening_prompt,
    topic_kinds,
)

__all__ = ["Correction", "HeardWordLike", "Hearing", "clinical_vocabulary", "correct",
           "listening_prompt", "prepare"]

# Word probabilities: WhisperSTT's (the weakest token of each word), Whisper base int8 on
# 312 espeak-ng clips of clinical sentences (4 accents, 3 speeds). With no probability gate,
# the runs that sounded like a term were true misses below a mean of 0.5 ("met for me" 0.32,
# "Punta Prasol" 0.30) and mostly false above it ("feel" -> "fell" 0.71-0.99, "last night" ->
# "lost weight" 0.55-0.96, "3 days" -> "red eyes" 0.61-0.90).
UNSURE = 0.5  # a run's mean probability below this may be corrected
CONFIDENT = 0.75  # a word at or above this is never changed
NEGATION_UNSURE = 0.35  # a negation word is merged into a term only below this
# Clinical terms heard right came out anywhere from 0.07 ("fever") to 1.0, median 0.57: a low
# probability alone says little, so only the lowest are read back (15% of those heard right).
REPORT_UNSURE = 0.2
# How alike the run and the term must sound (hearing_sounds.similarity). On 104 clips of
# espeak speech, true fixes scored 0.70-1.0 and false ones 0.70-0.90, most below 0.8; brand
# names drew most false ones ("can die" -> "Candid" 0.77, "missat" -> "Emeset" 0.78) and
# no true one, so a brand always needs the higher bar.
IN_TOPIC_SIMILARITY = 0.72
ANY_SIMILARITY = 0.8
SHORT_SIMILARITY = 0.8  # keys under _SHORT sounds: one changed vowel already scores 0.87
_SHORT = 5
_PART_SIMILARITY = 0.6  # "nose" / "motions" 0.59; "lost" / "loose" 0.65, "hot" / "not" 0.67
MAX_RUN = 4  # "am with you by" was "amlodipine"
# Spelling-near terms sounded out per word: with 862 brand names in the table, 5 left "fever"
# out for "femur" (three medicines spell nearer) and "male" out for "pale"; 8 keeps them.
_SHORTLIST = 8
_SHORTLIST_RATIO = 72  # rapidfuzz ratio of the coarse keys; true matches seen here scored 75+
_MIN_SOUNDS = 3  # shorter keys ("pan", "gas") match too many ordinary words
# Common words that are answers in their own right, or carry grammar: never replaced on their
# own (inside a run they may be: "met for me" is "metformin").
_KEEP = frozenset({
    "yes", "yeah", "yep", "ok", "okay", "sir", "madam", "doctor", "thank", "thanks", "please",
    "sorry", "i", "i'm", "i've", "me", "my", "you", "your", "he", "she", "it", "we", "they",
    "this", "that", "is", "am", "are", "was", "were", "be", "been", "do", "did", "can", "a",
    "an", "the", "and", "or", "but", "so", "than", "then", "to", "of", "for", "in", "on", "at",
    "by", "with", "from", "have", "has", "had", "since", "days", "day", "weeks", "week",
    "months", "years", "old", "child", "child's", "baby", "son", "daughter", "wife", "husband",
    "mother", "father", "medicine", "medicines", "tablet", "tablets", "drug", "drugs", "pill",
    "pills"})
_TOPIC_KEEP = {
    "sex": frozenset({"male", "female", "man", "woman", "boy", "girl", "lady", "gentleman"}),
    "pregnancy": frozenset({"pregnant", "pregnancy", "periods", "period"}),
}
_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)
_CLOSES_RUN = re.compile(r"[,.;:!?]$")


class HeardWordLike(Protocol):
    """A word as speech-to-text heard it, with its probability (0-1)."""

    @property
    def text(self) -> str: ...

    @property
    def probability(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Correction:
    """``heard`` (one to four words) was replaced by the vocabulary ``term``."""

    heard: str = field(repr=False)
    term: str = field(repr=False)
    probability: float


@dataclass(frozen=True, slots=True)
class Hearing:
    """The corrected transcript, what was corrected, and the clinical terms to confirm."""

    text: str = field(repr=False)
    corrections: tuple[Correction, ...] = ()
    unsure: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    norm: str
    probability: float
    term: Term | None = None  # set where a correction put this term here


@dataclass(frozen=True, slots=True)
class _Index:
    terms: tuple[Term, ...]
    keys: tuple[str, ...]
    coarse: tuple[str, ...]
    by_text: dict[str, Term]


def prepare() -> None:
    """Load the vocabulary and its sound keys now (~1 s here: Piper's phonemiser, ~2,500
    words), so that the first turn's :func:`correct` does not wait for them."""
    _index()


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Sound keys of the whole vocabulary, computed once."""
    learn(word for t in clinical_vocabulary() for word in t.text.lower().split())
    terms = tuple(t for t in clinical_vocabulary()
                  if not t.hinglish and len(sound_key(t.text.lower().split())) >= _MIN_SOUNDS)
    keys = tuple(sound_key(t.text.lower().split()) for t in terms)
    return _Index(terms, keys, tuple(coarse_key(k) for k in keys),
                  {t.text.lower(): t for t in clinical_vocabulary()})


def _edges(text: str) -> tuple[str, str, str]:
    """Leading punctuation, the word, trailing punctuation."""
    match = _EDGE.match(text)
    assert match is not None  # the pattern matches any string
    return match.group(1), match.group(2), match.group(3)


def _norm(text: str) -> str:
    return _edges(text.lower())[1]


def correct(words: Sequence[HeardWordLike], topic: str = "") -> Hearing:
    """Replace unsure, misheard runs of words by the clinical terms they sound like.

    Args:
        words: the words of one turn in order, each with ``.text`` (punctuation attached, no
            leading space) and ``.probability``.
        topic: the intake topic of the question being answered (``"allergies"``,
            ``"probe:<id>:<symptom>"``, ...): its terms are tried first and need less likeness.

    Returns:
        The corrected text, each correction, and the clinical terms in the text that were
        corrected or heard with a low probability.
    """
    heard = [_Word(w.text, _norm(w.text), float(w.probability)) for w in words if w.text.strip()]
    learn(w.norm for w in heard)
    kinds = topic_kinds(topic)
    keep = _TOPIC_KEEP.get(topic, frozenset())
    options = [option for start in range(len(heard)) for size in range(1, MAX_RUN + 1)
               if (option := _best(heard, start, size, kinds, keep)) is not None]
    # Best likeness first; a longer run wins a tie, as it explains more of what was heard.
    options.sort(key=lambda o: (-o[0], -o[2]))
    taken: set[int] = set()
    chosen: list[tuple[int, int, Term]] = []
    for _, start, size, term in options:
        span = set(range(start, start + size))
        if not span & taken:
            taken |= span
            chosen.append((start, size, term))
    final, corrections = _apply(heard, sorted(chosen, key=lambda c: c[0]))
    return Hearing(" ".join(w.text for w in final), tuple(corrections), _unsure(final))


def _best(heard: list[_Word], start: int, size: int, kinds: frozenset[str],
          keep: frozenset[str]) -> tuple[float, int, int, Term] | None:
    """The term the run ``heard[start:start+size]`` most likely was, with its likeness."""
    run = heard[start:start + size]
    if len(run) < size or not _may_change(run, keep):
        return None
    norms = [w.norm for w in run]
    key = sound_key(norms)
    if len(key) < _MIN_SOUNDS:
        return None
    index = _index()
    found: tuple[float, Term] | None = None
    coarse = coarse_key(key)
    for _, _, i in process.extract(coarse, index.coarse, scorer=fuzz.ratio,
                                   limit=_SHORTLIST, score_cutoff=_SHORTLIST_RATIO):
        term = index.terms[i]
        if term.kinds & kinds:
            need = IN_TOPIC_SIMILARITY if len(key) >= _SHORT else SHORT_SIMILARITY
        elif len(key) >= _SHORT and len(index.keys[i]) >= _SHORT:
            need = ANY_SIMILARITY
        else:
            continue  # a short word is only read as a term the question expects
        if term.kinds == {BRAND}:
            need = max(need, ANY_SIMILARITY)
        need = max(need, found[0] if found else 0.0)
        if similarity_bound(coarse, index.coarse[i]) < need:
            continue
        score = similarity(key, index.keys[i], need)
        if score >= need and _allowed(run, term):
            found = (score, term)
    return None if found is None else (found[0], start, size, found[1])


def _may_change(run: list[_Word], keep: frozenset[str]) -> bool:
    """Whether Whisper's doubt allows this run to be re-read at all."""
    if any(_CLOSES_RUN.search(w.text) for w in run[:-1]):
        return False  # punctuation says these words were heard apart ("No, sir")
    if any(w.norm in keep for w in run):
        return False  # the answer the question asked for
    if all(w.norm in _KEEP or w.norm in NEGATIONS for w in run):
        return False
    if any(w.probability >= CONFIDENT for w in run[1:-1]):
        return False  # a sure word inside the run would change (only edges may stay as heard)
    if any(ch.isdigit() for w in run for ch in w.norm):
        return False  # numbers are answers (durations, doses): "3 days" is not "red eyes"
    if " ".join(w.norm for w in run) in _index().by_text:
        return False
    return sum(w.probability for w in run) / len(run) < UNSURE


def _allowed(run: list[_Word], term: Term) -> bool:
    """Whether replacing ``run`` by ``term`` changes only words it may change."""
    target = term.text.lower().split()
    norms = [w.norm for w in run]
    if len(target) > len(run):
        return False  # a term never adds words that were not heard ("ready" is not "red eye")
    by_text = _index().by_text
    same_length = len(target) == len(run)
    for i, j in itertools.combinations(range(len(run) + 1), 2):
        # A term heard is left as it is: "a loose motions" is not cut to "loose motions", nor
        # "and a fever" made "on and off fever". Only a cue may stay inside a longer term
        # ("hot allergic" -> "not allergic").
        heard = by_text.get(" ".join(norms[i:j]))
        if heard is not None and not (heard.kind == CUE and same_length
                                      and target[i:j] == norms[i:j]):
            return False
    start, end = _shared_edges(norms, target)
    changed, into = run[start:len(run) - end], target[start:len(target) - end]
    if not changed or not into:
        return False
    for word in changed:
        if word.probability >= CONFIDENT:
            return False
        # A negation only goes where it was heard as part of a longer word ("no seer").
        if word.norm in NEGATIONS and (word.probability >= NEGATION_UNSURE
                                       or len(changed) == len(into)):
            return False
    # Words kept as heard make any run sound alike ("blood in nose" / "blood in motions",
    # "I have body" / "hot body"): what changes must sound alike on its own too.
    if (start or end) and similarity(sound_key([w.norm for w in changed]),
                                     sound_key(into)) < _PART_SIMILARITY:
        return False
    added = NEGATIONS.intersection(into) - set(norms)
    # A negation only comes back where an unsure word that sounds like it stood in its place.
    return not added or (len(changed) == len(into) and all(
        w.probability < NEGATION_UNSURE and similarity(sound_key([w.norm]), sound_key([t])) >= 0.6
        for w, t in zip(changed, into, strict=True) if t in added))


def _shared_edges(heard: list[str], target: list[str]) -> tuple[int, int]:
    """How many words the run and the term share at their start and at their end."""
    start = 0
    while start < min(len(heard), len(target)) and heard[start] == target[start]:
        start += 1
    end = 0
    while (end < min(len(heard), len(target)) - start
           and heard[len(heard) - 1 - end] == target[len(target) - 1 - end]):
        end += 1
    return start, end


def _apply(heard: list[_Word], chosen: list[tuple[int, int, Term]]
           ) -> tuple[list[_Word], list[Correction]]:
    final: list[_Word] = []
    corrections: list[Correction] = []
    position = 0
    for start, size, term in chosen:
        final += heard[position:start]
        run = heard[start:start + size]
        probability = sum(w.probability for w in run) / size
        lead, first, _ = _edges(run[0].text)
        tail = _edges(run[-1].text)[2]
        text = term.text
        if first[:1].isupper():  # the start of a sentence stays capitalised
            text = text[:1].upper() + text[1:]
        final.append(_Word(f"{lead}{text}{tail}", term.text.lower(), probability, term))
        corrections.append(Correction(" ".join(w.text for w in run), term.text, probability))
        position = start + size
    final += heard[position:]
    return final, corrections


def _unsure(final: list[_Word]) -> tuple[str, ...]:
    """Clinical terms in the final text that were corrected or heard with low probability."""
    by_text = _index().by_text
    found: dict[str, None] = {}
    position = 0
    while position < len(final):
        for size in range(min(4, len(final) - position), 0, -1):
            span = final[position:position + size]
            term = by_text.get(" ".join(w.norm for w in span))
            if term is not None and term.kind != CUE:
                if any(w.term is not None or w.probability < REPORT_UNSURE for w in span):
                    found[term.text] = None
                position += size
                break
        else:
            position += 1
    return tuple(found)
