"""How alike two pieces of English sound: espeak-ng IPA compared phoneme by phoneme.

Spelling hides what Whisper confuses ("cuff"/"cough", "met from in"/"metformin"); IPA shows it.
espeak-ng comes with Piper (already a dependency, for speech). Its phonemiser is one global C
state: each call holds the GIL, and the voice set here is the one Piper's English voice sets
(en-us), so the TTS thread and this one do not change each other's output. Initialising it
resets the voice, so do that once at start-up (``hearing.prepare()``), before any speech.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Levenshtein

_VOICE = "en-us"
_MARKS = set("ˈˌːˑʲ̩̯-_ ")
VOWELS = frozenset("aeiouæɐɑɒɔəɚɛɜɝɪʊʌᵻɨyøœɵɘ")  # noqa: RUF001 (IPA symbols)
# Consonants Whisper swaps for each other: voicing pairs, the flap, the nasals, the liquids.
_GROUPS = ("pb", "tdɾʔ", "kgɡ", "fv", "θð", "sz", "ʃʒ", "mnŋ", "lɹrɫɻ", "w", "j", "h", "x")  # noqa: RUF001
_GROUP_OF = {ch: i for i, group in enumerate(_GROUPS) for ch in group}
# Sounds made at the same place, which Whisper also swaps ("fever" -> "femur": v/m).
_NEAR = frozenset(frozenset(pair) for pair in (
    "mv", "mb", "mp", "bv", "pf", "wv", "nd", "nt", "nl", "ŋg", "ŋk", "θf", "ðv", "ðd",
    "θt", "sʃ", "zʒ"))
# Sounds that cost little to drop: unstressed vowels blur, /h/ is often not heard at all.
_WEAK = VOWELS | {"h"}


@lru_cache(maxsize=1)
def _bridge() -> Any:
    """Piper's espeak-ng bridge, initialised once; None when Piper is not installed."""
    try:
        from piper import espeakbridge
        from piper.phonemize_espeak import ESPEAK_DATA_DIR
    except ImportError:
        return None
    espeakbridge.initialize(str(ESPEAK_DATA_DIR))
    return espeakbridge


_KNOWN: dict[str, str] = {}
_MAX_KNOWN = 50_000  # words; the vocabulary needs ~2,500, the rest is what patients said


def learn(words: Iterable[str]) -> None:
    """Phonemise the words not seen yet in one pass (setting the voice costs more than a word)."""
    new = [w for w in dict.fromkeys(words) if w not in _KNOWN]
    if not new:
        return
    if len(_KNOWN) + len(new) > _MAX_KNOWN:
        _KNOWN.clear()
    bridge = _bridge()
    if bridge is not None:
        bridge.set_voice(_VOICE)
    for word in new:
        _KNOWN[word] = _ipa(bridge, word)


def _ipa(bridge: Any, word: str) -> str:
    if bridge is None:  # without Piper the letters stand in: weaker, but still comparable
        return "".join(ch for ch in word.lower() if ch.isalpha())
    ipa = "".join(clause for clause, _, _ in bridge.get_phonemes(word))
    ipa = unicodedata.normalize("NFD", ipa)
    return "".join(ch for ch in ipa if ch not in _MARKS and not unicodedata.combining(ch))


def phonemes(word: str) -> str:
    """The IPA of one word as a plain string of phoneme symbols (no stress, no length marks)."""
    if word not in _KNOWN:
        learn([word])
    return _KNOWN[word]


def sound_key(words: Sequence[str]) -> str:
    """The phonemes of several words run together, as Whisper's word split is arbitrary."""
    return "".join(phonemes(w) for w in words)


def _substitution(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if a in VOWELS and b in VOWELS:
        return 0.4
    group = _GROUP_OF.get(a)
    if group is not None and group == _GROUP_OF.get(b):
        return 0.4
    return 0.7 if frozenset((a, b)) in _NEAR else 1.0


def _indel(ch: str) -> float:
    return 0.5 if ch in _WEAK else 1.0


@lru_cache(maxsize=256)
def _costs(a: str) -> dict[str, float]:
    """Substitution costs from ``a`` to every sound that costs less than a full edit."""
    return {b: cost for b in {*VOWELS, *_GROUP_OF} if (cost := _substitution(a, b)) < 1.0}


def similarity(a: str, b: str, floor: float = 0.0) -> float:
    """1 for the same sounds, towards 0 for unrelated ones: a weighted edit distance over
    phonemes, divided by the longer key's length. Returns 0 as soon as the result is sure to
    fall below ``floor`` (most candidates are dropped a few phonemes in)."""
    if not a or not b:
        return 0.0
    longest = max(len(a), len(b))
    budget = (1.0 - floor) * longest
    drop_b = [_indel(ch) for ch in b]
    previous = [0.0]
    for cost in drop_b:
        previous.append(previous[-1] + cost)
    for ca in a:
        costs, drop_a = _costs(ca), _indel(ca)
        row = [previous[0] + drop_a]
        for j, cb in enumerate(b):
            row.append(min(previous[j] + costs.get(cb, 1.0), previous[j + 1] + drop_a,
                           row[j] + drop_b[j]))
        if min(row) > budget:
            return 0.0
        previous = row
    return max(0.0, 1.0 - previous[-1] / longest)


def similarity_bound(a: str, b: str) -> float:
    """An upper bound of :func:`similarity` from the coarse keys of ``a`` and ``b`` (fast).

    Every edit between different coarse symbols costs at least 0.5 in :func:`similarity`.
    """
    longest = max(len(a), len(b), 1)
    return 1.0 - 0.5 * Levenshtein.distance(a, b) / longest


def coarse_key(key: str) -> str:
    """A key where sounds Whisper confuses are one symbol, for a fast first pass."""
    return "".join("a" if ch in VOWELS else _GROUPS[_GROUP_OF[ch]][0] if ch in _GROUP_OF else ch
                   for ch in key)
