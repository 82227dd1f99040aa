"""Phoneme timing from the speech synthesiser turned into a viseme (mouth shape) timeline.

Piper reports, for every phoneme it speaks, how many audio samples it lasts; the counts add up
to the audio exactly, so the mouth moves in step with the sound with no extra model. Phonemes
are espeak IPA symbols; they map onto a small set of mouth shapes that the avatar can draw.
"""

from __future__ import annotations

from collections.abc import Iterable

VISEMES = ("rest", "MBP", "FV", "TH", "L", "WQ", "O", "E", "AI", "EE", "CDG")

_GROUPS: dict[str, str] = {}
for _viseme, _symbols in {
    "MBP": "m b p",
    "FV": "f v",
    "TH": "θ ð",
    "L": "l ɫ",
    "WQ": "w u ʊ uː ʍ",
    "O": "o ɔ ɒ oː ɔː əʊ oʊ",
    "E": "e ɛ æ eɪ ɜ ɜː ɛː",
    "AI": "a ɑ ʌ ə ɐ aɪ aʊ ɑː ɚ ᵻ",
    "EE": "i ɪ iː j",
    "CDG": "k g ɡ t d n s z ʃ ʒ tʃ dʒ ɹ r h ŋ x ʔ ɾ",
}.items():
    for _symbol in _symbols.split():
        _GROUPS[_symbol] = _viseme


_MARKS = frozenset("ˈˌː")


def viseme_for(phoneme: str) -> str | None:
    """The mouth shape for one espeak phoneme; None for stress marks (they keep the shape)."""
    symbol = phoneme.strip("ˈˌ")
    if not symbol or set(phoneme) <= _MARKS:
        return None
    if symbol in {" ", "^", "$", "_", ",", ".", "!", "?", "—"}:
        return "rest"
    if symbol in _GROUPS:
        return _GROUPS[symbol]
    base = symbol.rstrip("ː")
    return _GROUPS.get(base, _GROUPS.get(base[:1], "rest"))


def timeline(
    phonemes: Iterable[tuple[str, int]], sample_rate: int, *, min_ms: int = 30
) -> tuple[tuple[str, int, int], ...]:
    """(viseme, start_ms, dur_ms) entries covering the audio, merging repeats and tiny shapes.

    Shapes shorter than ``min_ms`` are merged into the previous one: a mouth cannot show them and
    a 25 fps video would drop them anyway.
    """
    out: list[list[int | str]] = []
    position = 0
    for phoneme, samples in phonemes:
        start_ms = position * 1000 // sample_rate
        position += samples
        end_ms = position * 1000 // sample_rate
        shape = viseme_for(phoneme)
        if out and (shape is None or out[-1][0] == shape or end_ms - start_ms < min_ms):
            out[-1][2] = end_ms - int(out[-1][1])
        else:
            out.append([shape or "rest", start_ms, end_ms - start_ms])
    return tuple((str(s), int(a), int(d)) for s, a, d in out)
