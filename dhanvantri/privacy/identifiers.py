"""Fast, regex-and-checksum recognisers for structured identifiers.

Aadhaar (Verhoeff check digit via python-stdnum), ABHA numbers (14 digits), Indian phone numbers
(validated with ``phonenumbers``; mobiles need no context, fixed lines need a prefix or a context
word), PAN, e-mail, ABHA addresses and PIN codes. These run without spaCy, so the log filter can
use them on every record.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType
from stdnum.in_ import aadhaar as stdnum_aadhaar
from stdnum.in_ import pan as stdnum_pan

from dhanvantri.privacy import context as ctx
from dhanvantri.privacy.entities import (
    AADHAAR,
    ABHA_ADDRESS,
    ABHA_NUMBER,
    EMAIL,
    ID_NUMBER,
    PAN,
    PHONE,
    PIN_CODE,
    Entity,
)
from dhanvantri.privacy.spoken import DigitRun, digit_runs

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_TLD = r"(?:com|in|org|net|co\s+dot\s+in|org\s+dot\s+in|gov\s+dot\s+in|edu|info|io)"
# "rajesh dot kumar at the rate gmail dot com": how an address sounds once transcribed.
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9]+(?:\s+(?:dot|underscore)\s+[a-z0-9]+)*\s+(?:at\s+the\s+rate(?:\s+of)?|at)\s+"
    r"[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*?\s+dot\s+" + _TLD + r"\b",
    re.IGNORECASE,
)
_ABHA_ADDRESS = re.compile(r"(?<![\w.@])[A-Za-z0-9][A-Za-z0-9._]{1,31}@(?:abdm|sbx)\b", re.I)
_SPOKEN_ABHA_ADDRESS = re.compile(
    r"\b[a-z0-9]+(?:\s+(?:dot|underscore)\s+[a-z0-9]+)*\s+(?:at\s+the\s+rate(?:\s+of)?|at)\s+"
    r"(?:abdm|sbx)\b",
    re.IGNORECASE,
)
# PAN: five letters, four digits, a letter; letters may be spelled out with spaces or dots.
_PAN = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z][ .-]?){5}(?:\d[ .-]?){4}[A-Za-z](?![A-Za-z0-9])")


def find_identifiers(text: str) -> list[Entity]:
    """All structured identifiers in ``text`` (may overlap; see ``resolve_overlaps``)."""
    found: list[Entity] = []
    for run in digit_runs(text):
        found.extend(_classify_run(text, run))
    found.extend(_emails(text))
    found.extend(_abha_addresses(text))
    found.extend(_pans(text))
    return found


def _entity(text: str, kind: str, start: int, end: int, score: float) -> Entity:
    return Entity(kind, start, end, round(min(score, 1.0), 2), text[start:end])


def _emails(text: str) -> list[Entity]:
    hits = [_entity(text, EMAIL, m.start(), m.end(), 0.95) for m in _EMAIL.finditer(text)]
    hits += [_entity(text, EMAIL, m.start(), m.end(), 0.8) for m in _SPOKEN_EMAIL.finditer(text)]
    return hits


def _abha_addresses(text: str) -> list[Entity]:
    hits = [
        _entity(text, ABHA_ADDRESS, m.start(), m.end(), 0.95) for m in _ABHA_ADDRESS.finditer(text)
    ]
    hits += [
        _entity(text, ABHA_ADDRESS, m.start(), m.end(), 0.8)
        for m in _SPOKEN_ABHA_ADDRESS.finditer(text)
    ]
    return hits


def _pans(text: str) -> list[Entity]:
    hits = []
    for m in _PAN.finditer(text):
        value = re.sub(r"[ .-]", "", m.group()).upper()
        if not stdnum_pan.is_valid(value):
            continue
        # A typed uppercase PAN is unmistakable; a lowercase one needs the word "pan" nearby or
        # a mix of letters that is not an English word followed by digits.
        score = 0.9 if m.group().isupper() else 0.6
        if ctx.has_context(text, m.start(), m.end(), ctx.PAN_WORDS):
            score += 0.1
        hits.append(_entity(text, PAN, m.start(), m.end(), score))
    return hits


def is_mobile(national: str) -> bool:
    """Whether a 10-digit national number is a valid Indian mobile number."""
    if len(national) != 10 or national[0] not in "6789":
        return False
    try:
        number = phonenumbers.parse("+91" + national)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return phonenumbers.is_valid_number(number) and kind in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def _is_fixed_line(national: str) -> bool:
    try:
        number = phonenumbers.parse("+91" + national)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE
    )


def _phone_national(run: DigitRun) -> tuple[str, bool] | None:
    """The national part of a phone-like run and whether it carried a country/trunk prefix."""
    d = run.digits
    if len(d) == 10:
        return d, False
    if len(d) == 11 and d[0] == "0":
        return d[1:], True
    if len(d) == 12 and d.startswith("91"):
        return d[2:], True
    return None


def _shape_ok(run: DigitRun, shapes: tuple[tuple[int, ...], ...]) -> bool:
    """Numerals must be grouped as people write the id; spoken digits may be grouped any way."""
    if run.spoken or len(run.groups) == 1 or max(run.groups) == 1:
        return True  # one piece, or dictated digit by digit ("9-8-7-6-5-4-3-2-1-0")
    return run.groups in shapes


_AADHAAR_SHAPES = ((4, 4, 4),)
_ABHA_SHAPES = ((2, 4, 4, 4),)
# 98765 43210, 987 654 3210, 9876 543 210, 91 98765 43210, 0 98765 43210, 098765 43210 ...
_PHONE_SHAPES = (
    (5, 5),
    (3, 3, 4),
    (4, 3, 3),
    (2, 4, 4),
    (4, 6),
    (2, 5, 5),
    (2, 10),
    (1, 5, 5),
    (1, 10),
    (6, 5),
    (3, 7),
    (2, 3, 3, 4),
    (3, 4, 4),
    (4, 7),
    (5, 6),
    (3, 8),
)


_ID_WORDS = (ctx.PHONE_WORDS | ctx.AADHAAR_WORDS | ctx.ABHA_WORDS) - {"no"}
_DATE_SHAPES = ((2, 2, 4), (1, 2, 4), (2, 1, 4), (1, 1, 4), (4, 2, 2), (4, 1, 1), (4, 2, 1))


def _words_just_before(text: str, start: int) -> list[str]:
    """Up to three words before ``start`` in the same clause (no punctuation or digits between)."""
    window = re.split(r"[.!?;,\d]", text[max(0, start - 40) : start])[-1]
    return re.findall(r"[a-z]+", window.lower())[-3:]


def _classify_run(text: str, run: DigitRun) -> list[Entity]:
    """Entities for one digit run; a run that fits no format is tried split at its groups."""
    hit = _classify_whole(text, run)
    if hit is not None:
        return [hit]
    parts = _split(text, run)
    if parts:
        return parts
    # An unreadable long number said or typed as one piece is still an identifier; numerals in
    # several groups that fit no format are a list of readings ("120 130 140 150 160").
    numerals = sum(g > 1 for g in run.groups)
    if len(run.digits) >= 9 and (len(run.groups) == 1 or (run.spoken and numerals <= 1)):
        return [_unknown_id(text, run)]
    # A recogniser that drops a digit leaves "652-170034": with "number"/"aadhaar" said just
    # before, a long run in any grouping is still someone's identifier.
    if (
        len(run.digits) >= 8
        and run.groups not in _DATE_SHAPES
        and set(_words_just_before(text, run.start)) & _ID_WORDS
    ):
        return [_unknown_id(text, run)]
    return []


def _classify_whole(text: str, run: DigitRun) -> Entity | None:
    d = run.digits
    near = set(ctx.words_before(text, run.start) + ctx.words_after(text, run.end, 2))
    phone_ctx = bool(near & ctx.PHONE_WORDS)
    if len(d) == 14 and _shape_ok(run, _ABHA_SHAPES):
        score = 0.85 + (0.1 if near & ctx.ABHA_WORDS else 0.0)
        return _entity(text, ABHA_NUMBER, run.start, run.end, score)
    national = _phone_national(run)
    mobile = national is not None and is_mobile(national[0])
    if len(d) == 12 and stdnum_aadhaar.is_valid(d) and _shape_ok(run, _AADHAAR_SHAPES):
        aadhaar_ctx = bool(near & ctx.AADHAAR_WORDS)
        # "+91 98765 43210" or "91 98765 43210" said as a phone number may pass Verhoeff by chance.
        if mobile and (run.plus or run.groups != (4, 4, 4)) and not aadhaar_ctx:
            return _entity(text, PHONE, run.start, run.end, 0.85)
        return _entity(text, AADHAAR, run.start, run.end, 0.9 + (0.1 if aadhaar_ctx else 0.0))
    # With "phone"/"mobile"/"call" nearby any grouping will do ("98 45 01 23 45").
    if national is not None and (phone_ctx or _shape_ok(run, _PHONE_SHAPES)):
        if mobile:
            return _entity(text, PHONE, run.start, run.end, 0.85 + (0.1 if phone_ctx else 0.0))
        if _is_fixed_line(national[0]) and (national[1] or phone_ctx):
            return _entity(text, PHONE, run.start, run.end, 0.7)
    if len(d) == 6 and d[0] != "0" and near & ctx.PIN_WORDS:
        return _entity(text, PIN_CODE, run.start, run.end, 0.85)
    return None


def _split(text: str, run: DigitRun) -> list[Entity]:
    """Try reading a run as an id followed or preceded by other digits.

    "9876543210 2 times", "648 055 6069 two tablets": the id and a count were joined into one
    run. Numerals may be split anywhere; a run with spoken digits only when at most three digits
    are left over, so a misheard 12-digit Aadhaar is not half-read as a phone.
    """
    items = run.items
    if len(items) < 2:
        return []
    for cut in range(len(items) - 1, 0, -1):
        rest = "".join(it[2] for it in items[cut:])
        if run.spoken and len(rest) > 3:
            break
        hit = _classify_whole(text, _sub_run(text, items[:cut]))
        if hit is not None:
            return [hit, *_classify_run(text, _sub_run(text, items[cut:]))]
    if run.spoken:
        return []
    for cut in range(1, len(items)):
        hit = _classify_whole(text, _sub_run(text, items[cut:]))
        if hit is not None:
            return [hit]
    return []


def _sub_run(text: str, items: tuple[tuple[int, int, str, bool], ...]) -> DigitRun:
    start, end = items[0][0], items[-1][1]
    groups: list[int] = []
    for _, _, digits, spelled in items:
        groups.extend([1] * len(digits) if spelled else [len(digits)])
    plus = start > 0 and text[start - 1] == "+"
    if plus:
        start -= 1
    spoken = any(it[3] for it in items)
    digits = "".join(it[2] for it in items)
    return DigitRun(start, end, digits, tuple(groups), spoken, plus, items)


def _unknown_id(text: str, run: DigitRun) -> Entity:
    """A long digit run that fits no format: still PHI, typed by what is said around it."""
    near = set(ctx.words_before(text, run.start) + ctx.words_after(text, run.end, 2))
    if near & ctx.AADHAAR_WORDS:
        return _entity(text, AADHAAR, run.start, run.end, 0.6)
    if near & ctx.ABHA_WORDS:
        return _entity(text, ABHA_NUMBER, run.start, run.end, 0.6)
    phone_words = near & ctx.PHONE_WORDS
    # "number" alone says phone only for a phone-sized run ("my number is ..."), not for a
    # 15-digit policy number.
    if phone_words - {"number", "no"} or (phone_words and 8 <= len(run.digits) <= 13):
        return _entity(text, PHONE, run.start, run.end, 0.6)
    return _entity(text, ID_NUMBER, run.start, run.end, 0.5)
