"""Token syntax: writing ``<PERSON_1>`` and finding it again, however a language model mangles it.

Models copy tokens back imperfectly: ``PERSON_1``, ``< PHONE_1 >``, ``[person 1]``, ``<PERSON>``,
``<PERSON_7>`` (a number never issued). :func:`find_tokens` finds all of these and nothing that
is ordinary prose ("the person should rest", "your PAN card").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dhanvantri.privacy.entities import ENTITY_TYPES


def make_token(kind: str, number: int) -> str:
    """The canonical token, e.g. ``<PERSON_1>``."""
    return f"<{kind}_{number}>"


_TYPES = "|".join(t.replace("_", r"[_ ]") for t in sorted(ENTITY_TYPES, key=len, reverse=True))
_TOKEN = re.compile(
    r"(?P<open>[<\[{])?[ \t]*(?P<type>" + _TYPES + r")(?![A-Za-z])"
    r"(?:[ \t]*(?P<sep>[_\- ]?)[ \t]*(?P<num>\d+)(?!\d))?[ \t]*(?P<close>[>\]}])?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class FoundToken:
    """A token (or what is left of one) in text.

    Attributes:
        start: Start offset.
        end: End offset (exclusive).
        kind: The entity type, canonical (``DATE_OF_BIRTH``).
        number: The token's number, if it had one.
    """

    start: int
    end: int
    kind: str
    number: int | None

    @property
    def canonical(self) -> str | None:
        """``<KIND_N>`` when the number survived."""
        return make_token(self.kind, self.number) if self.number is not None else None


def find_tokens(text: str) -> Iterator[FoundToken]:
    """Every token-like span in ``text``: exact, spaced, unbracketed, or missing its number."""
    for m in _TOKEN.finditer(text):
        said_type = m.group("type")
        bracketed = bool(m.group("open") or m.group("close"))
        numbered = m.group("num") is not None
        explicit = numbered and (m.group("sep") in ("_", "-") or said_type.isupper())
        if not (bracketed or explicit or "_" in said_type):
            continue  # ordinary prose: "the person", "your PAN card", "address 2"
        glued = m.start("type") > 0 and text[m.start("type") - 1].isalpha()
        if glued and not (bracketed or (numbered and m.group("sep") == "_")):
            continue  # part of a longer word ("JAPAN 2"); "restPERSON_3" is still a token
        start, end = m.start(), m.end()
        if not bracketed:
            # Leading/trailing blanks belong to the surrounding text.
            start = m.start("type")
            end = m.end("num") if numbered else m.end("type")
        kind = re.sub(r"[ ]", "_", said_type.upper())
        yield FoundToken(start, end, kind, int(m.group("num")) if numbered else None)
