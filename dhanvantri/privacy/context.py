"""Words around a match, used to raise or decide a detection's type and score."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z]+")

PHONE_WORDS = frozenset(
    "phone mobile number call contact cell whatsapp ph mob tel telephone reach ring dial no".split()
)
AADHAAR_WORDS = frozenset("aadhaar aadhar adhaar adhar aadhaarcard uid uidai".split())
ABHA_WORDS = frozenset("abha health abdm ndhm".split())
PIN_WORDS = frozenset("pin pincode postal zip".split())
PAN_WORDS = frozenset(["pan"])
BIRTH_WORDS = frozenset("born birth dob birthday".split())


def words_before(text: str, start: int, count: int = 6) -> list[str]:
    """The last ``count`` lowercase words before ``start``."""
    return _WORD.findall(text[max(0, start - 80) : start].lower())[-count:]


def words_after(text: str, end: int, count: int = 3) -> list[str]:
    """The first ``count`` lowercase words after ``end``."""
    return _WORD.findall(text[end : end + 50].lower())[:count]


def has_context(text: str, start: int, end: int, vocab: frozenset[str], before: int = 6) -> bool:
    """Whether any word of ``vocab`` is near the span (mostly before it, as people say it)."""
    near = words_before(text, start, before) + words_after(text, end, 2)
    return any(w in vocab for w in near)
