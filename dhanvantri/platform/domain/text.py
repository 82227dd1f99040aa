"""Text people type, made safe to store, show and print.

Control characters, bidi overrides and isolates, and zero-width characters are invisible: a
zero-width space makes one name two, and a right-to-left override makes a signed PDF print a
different name from the one reviewed. They are dropped, not refused: they arrive by copy and
paste far more often than by intent.
"""

from __future__ import annotations

import unicodedata

ZERO_WIDTH_JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ
LINE_BREAKS = frozenset("\t\n\r")
MARKUP = frozenset("<>")


def _indic(ch: str) -> bool:
    # Devanagari to Sinhala: a joiner after a letter or virama picks a conjunct's written form
    # (half forms, chillu), so it is part of how the name is spelt.
    return "\u0900" <= ch <= "\u0dff"


def visible(text: str, *, single_line: bool = False) -> str:
    """``text`` without control (Cc) or invisible format (Cf) characters.

    Tab, newline and carriage return stay (or become spaces with ``single_line``; the Unicode
    line and paragraph separators always do); ZWJ and ZWNJ stay only right after an Indic
    character, where they shape the script.
    """
    out: list[str] = []
    for ch in text:
        kind = unicodedata.category(ch)
        if ch in LINE_BREAKS or kind in ("Zl", "Zp"):
            out.append(" " if single_line or ch not in LINE_BREAKS else ch)
        elif kind == "Cf":
            if ch in ZERO_WIDTH_JOINERS and out and _indic(out[-1]):
                out.append(ch)
        elif kind != "Cc":
            out.append(ch)
    return "".join(out)


def person_name(text: str) -> str:
    """A name on one line with single spaces; ``ValueError`` if it carries markup.

    Names are printed on prescriptions and shown on dashboards: angle brackets belong to no
    one's name, and refusing them keeps HTML out of every place a name is drawn.
    """
    name = " ".join(visible(text, single_line=True).split())
    if MARKUP & set(name):
        raise ValueError("must not contain < or >")
    return name
