"""Digit runs in typed text and in speech-to-text output.

Speech recognisers write a spoken number many ways: "9876543210", "98765 43210",
"nine eight seven six five four three two one zero", "double five", "ninety eight seventy six",
or glue a stray letter to it ("I-887265432110"). :func:`digit_runs` finds each run of digits and
digit words joined by spaces, dashes or (between spoken words) commas, and returns the digits with
the span of the original text, so id recognisers can validate the digits and still redact the
words the patient actually said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "niner": "9",
}
TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
REPEATS = {"double": 2, "triple": 3}

_TOKEN = re.compile(r"\d+|[A-Za-z]+|[^\sA-Za-z\d]")


@dataclass(frozen=True, slots=True)
class DigitRun:
    """A run of digits found in text.

    Attributes:
        start: Start offset of the run in the original text.
        end: End offset (exclusive).
        digits: The digits, separators removed.
        groups: Lengths of the digit groups as written (spoken digits count one group each).
        spoken: Whether any digit was written as a word.
        plus: Whether a ``+`` came right before the run.
        items: The numerals and digit words the run is made of, with their spans.
    """

    start: int
    end: int
    digits: str
    groups: tuple[int, ...]
    spoken: bool
    plus: bool
    items: tuple[tuple[int, int, str, bool], ...] = ()  # (start, end, digits, spelled) each

    def __repr__(self) -> str:  # digits are PHI; show only the shape
        return f"DigitRun(start={self.start}, end={self.end}, groups={self.groups})"


def _word_digits(tokens: list[re.Match[str]], i: int) -> tuple[str, int] | None:
    """Digits spelled by the word(s) at ``tokens[i]``, and how many tokens they use."""
    word = tokens[i].group().lower()
    nxt = tokens[i + 1].group().lower() if i + 1 < len(tokens) else ""
    if word in REPEATS and (nxt in UNITS or (nxt.isdigit() and len(nxt) == 1)):
        return (UNITS.get(nxt, nxt)) * REPEATS[word], 2
    if word in TENS:
        if nxt in UNITS and nxt not in ("zero", "oh", "o"):
            return TENS[word] + UNITS[nxt], 2
        return TENS[word] + "0", 1
    if word in TEENS:
        return TEENS[word], 1
    if word in UNITS:
        return UNITS[word], 1
    return None


def _misheard_nine(tokens: list[re.Match[str]], i: int) -> bool:
    """Whisper writes a leading spoken "nine" as "I" glued to the digits: "I-8765-43210"."""
    if i > 0 and tokens[i - 1].end() == tokens[i].start() and tokens[i - 1].group().isalnum():
        return False  # part of a word
    j = i + 1
    if j < len(tokens) and tokens[j].group() == "-" and tokens[j].start() == tokens[i].end():
        j += 1
    return (
        j < len(tokens)
        and tokens[j].group().isdigit()
        and len(tokens[j].group()) >= 3
        and tokens[j].start() - tokens[i].end() <= 1
    )


def _nine_inside(tokens: list[re.Match[str]], i: int) -> bool:
    """An "I" between dashes inside a dictated number: "6-I-3-1-I-2-5-4-9"."""
    if i < 1 or i + 2 >= len(tokens) or tokens[i - 1].group() != "-":
        return False
    return tokens[i + 1].group() == "-" and tokens[i + 2].group().isdigit()


def _gap_ok(text: str, prev_end: int, start: int, spoken: bool) -> bool:
    """Whether the characters between two run items keep them in one run."""
    gap = text[prev_end:start]
    if not gap.strip():
        return len(gap) <= 2
    sep = gap.strip()
    if sep in ("-", "\u2013"):
        return len(gap) <= 3
    # Transcribers put commas or full stops between spoken digits; never between numerals,
    # where they separate distinct readings ("120, 130").
    return spoken and sep in (",", ".") and len(gap) <= 3


def digit_runs(text: str) -> list[DigitRun]:
    """All runs of digits (numerals or digit words) in ``text``, in order."""
    tokens = list(_TOKEN.finditer(text))
    runs: list[DigitRun] = []
    i = 0
    while i < len(tokens):
        item = _item(tokens, i, first=True)
        if item is None:
            i += 1
            continue
        digits, used, is_word = item
        start = tokens[i].start()
        end = tokens[i + used - 1].end()
        groups = [len(digits)] if not is_word else [1] * len(digits)
        items = [(start, end, digits, is_word)]
        spoken = is_word
        plus = start > 0 and text[start - 1] == "+"
        if plus:
            start -= 1
        j = i + used
        while j < len(tokens):
            nxt_j = j
            if tokens[j].group() in ("-", "\u2013", ",", "."):
                nxt_j = j + 1
            if nxt_j >= len(tokens):
                break
            item = _item(tokens, nxt_j, first=False)
            if item is None:
                break
            d, used, is_word = item
            if not _gap_ok(text, end, tokens[nxt_j].start(), spoken or is_word):
                break
            digits += d
            groups.extend([len(d)] if not is_word else [1] * len(d))
            items.append((tokens[nxt_j].start(), tokens[nxt_j + used - 1].end(), d, is_word))
            spoken = spoken or is_word
            end = tokens[nxt_j + used - 1].end()
            j = nxt_j + used
        runs.append(DigitRun(start, end, digits, tuple(groups), spoken, plus, tuple(items)))
        i = j
    return runs


def _item(tokens: list[re.Match[str]], i: int, *, first: bool) -> tuple[str, int, bool] | None:
    """The digits at ``tokens[i]`` as (digits, tokens used, spelled as words)."""
    tok = tokens[i].group()
    if tok.isdigit():
        return tok, 1, False
    if tok in ("I", "i") and (_misheard_nine(tokens, i) if first else _nine_inside(tokens, i)):
        return "9", 1, True
    word = tok.lower()
    # "oh"/"o" mean zero only inside a run: "oh, nine eight..." starts with an interjection.
    if first and word in ("oh", "o"):
        return None
    spelled = _word_digits(tokens, i)
    if spelled is None:
        return None
    return spelled[0], spelled[1], True
