"""Calendar dates and dates of birth, never durations.

Presidio's ``DATE_TIME`` (from spaCy) also tags "3 days" and "since morning", which are clinical
facts the model needs. Here a date is a calendar date: day and month (and usually a year), as
numerals ("12/03/1985"), words ("5th march 1985", "march 5, 1985") or speech ("twelfth of march
nineteen eighty five"); a bare year counts only right after "born in". A date near "born",
"birth", "dob" or "birthday" is a ``DATE_OF_BIRTH``; any other calendar date is a ``DATE``.
"""

from __future__ import annotations

import re

from dhanvantri.privacy import context as ctx
from dhanvantri.privacy.entities import DATE, DATE_OF_BIRTH, Entity

_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_UNIT = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_ORD_UNIT = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
_ORD_WORD = (
    r"(?:(?:twenty|thirty)[\s-]" + _ORD_UNIT + r"|" + _ORD_UNIT + r"|tenth|eleventh|twelfth"
    r"|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth"
    r"|thirtieth)"
)
_DAY = r"(?:(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?|" + _ORD_WORD + r")"
_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_TEEN = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
_SPOKEN_YEAR = (
    r"(?:(?:nineteen|twenty)\s+(?:"
    + _TENS
    + r"(?:[\s-]"
    + _UNIT
    + r")?|"
    + _TEEN
    + r"|oh\s+"
    + _UNIT
    + r")|two\s+thousand(?:\s+and)?(?:\s+(?:"
    + _TEEN
    + r"|"
    + _TENS
    + r"(?:[\s-]"
    + _UNIT
    + r")?|"
    + _UNIT
    + r"))?)"
)
_YEAR = r"(?:(?:19|20)\d{2}|" + _SPOKEN_YEAR + r")"

_PATTERNS = [
    # 12/03/1985, 12-3-85, 12.03.1985
    re.compile(r"\b(?:[12]\d|3[01]|0?[1-9])[/.-](?:1[0-2]|0?[1-9])[/.-](?:(?:19|20)\d{2}|\d{2})\b"),
    # 1985-03-12
    re.compile(r"\b(?:19|20)\d{2}-(?:1[0-2]|0?[1-9])-(?:[12]\d|3[01]|0?[1-9])\b"),
    # 5th march 1985, 5 of march, twelfth of march nineteen eighty five
    re.compile(
        r"\b" + _DAY + r"(?:\s+of)?\s+" + _MONTH + r"(?:,?\s+" + _YEAR + r")?\b", re.IGNORECASE
    ),
    # march 5, 1985 / march 5th
    re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r"(?:,?\s+" + _YEAR + r")?\b", re.IGNORECASE),
]
_MONTH_YEAR = re.compile(r"\b" + _MONTH + r",?\s+" + _YEAR + r"\b", re.IGNORECASE)
_BORN_YEAR = re.compile(r"\bborn\s+(?:in\s+)?(?:the\s+year\s+)?(" + _YEAR + r")\b", re.IGNORECASE)


def find_dates(text: str) -> list[Entity]:
    """Calendar dates, typed ``DATE_OF_BIRTH`` when said as one."""
    found: list[Entity] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            said = m.group()
            if said.lower().startswith("may ") and not re.search(r"\d|" + _ORD_WORD, said):
                continue  # "may" the verb
            found.append(_typed(text, m.start(), m.end()))
    for m in _MONTH_YEAR.finditer(text):
        # "march 1985" alone is only PHI as a birth date; "since march 2023" is history.
        if ctx.has_context(text, m.start(), m.end(), ctx.BIRTH_WORDS):
            found.append(Entity(DATE_OF_BIRTH, m.start(), m.end(), 0.8, m.group()))
    for m in _BORN_YEAR.finditer(text):
        found.append(Entity(DATE_OF_BIRTH, m.start(1), m.end(1), 0.8, m.group(1)))
    return _longest(found)


def _typed(text: str, start: int, end: int) -> Entity:
    if ctx.has_context(text, start, end, ctx.BIRTH_WORDS):
        return Entity(DATE_OF_BIRTH, start, end, 0.9, text[start:end])
    return Entity(DATE, start, end, 0.7, text[start:end])


def _longest(found: list[Entity]) -> list[Entity]:
    """Drop matches contained in a longer one."""
    found.sort(key=lambda e: (e.start, -(e.end - e.start)))
    out: list[Entity] = []
    for ent in found:
        if out and ent.start >= out[-1].start and ent.end <= out[-1].end:
            continue
        out.append(ent)
    return out
