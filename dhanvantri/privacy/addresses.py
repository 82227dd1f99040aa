"""Indian street addresses in typed text and transcripts.

Indian addresses rarely follow a fixed format ("flat 302, sai krupa apartments, 4th cross,
indiranagar, bangalore 560038", "h no 12 gandhi nagar lucknow"). The recogniser finds anchors —
street words ("road", "nagar", "colony"), locality suffixes ("-nagar", "-puram", "-halli"), house
numbers after "flat"/"house no"/"#", PIN codes next to a city, or "i live at" — then grows the
span over neighbouring address-like words. Clinical words and everyday English stop it, so
"heart block" or "post meal sugar 180" never become an address.
"""

from __future__ import annotations

import re

from dhanvantri.privacy.entities import ADDRESS, Entity
from dhanvantri.privacy.lexicon import Lexicon, lexicon

_TOKEN = re.compile(
    r"\d+\.\d+|\d+(?:[/-]\d+)*(?:st|nd|rd|th|[A-Za-z])?\b|[A-Za-z][A-Za-z0-9']*|[#,]"
)
_LOCALITY_SUFFIXES = (
    "nagar",
    "puram",
    "halli",
    "palya",
    "pura",
    "abad",
    "gaon",
    "wadi",
    "wada",
    "bagh",
    "ganj",
    "garh",
    "palli",
    "patti",
    "cherry",
    "chery",
    "gudi",
    "kere",
    "peth",
    "pet",
    "pur",
    "vihar",
)
_HOUSE_WORDS = frozenset("flat house plot door h hno apt shop room quarter".split())
_NUMBER_WORDS = frozenset(["no", "number", "num"])
_CUES = frozenset("live lives living stay stays staying reside resides residing resident".split())
_FUNCTION_WORDS = frozenset(
    "a an the in at on of to from my is are was and or near for by with i we you he she it".split()
)
_PIN_WORDS = frozenset(["pin", "pincode", "postal", "zip"])  # a PIN code said apart is its own
_CUE_LINKS = frozenset("at in of is on near".split())

# Token classes.
NUM, PIN, STRONG, WEAK, PLACE, COMMA, OTHER, STOP, HASH = range(9)


def _classify(tok: str, lex: Lexicon) -> int:
    low = tok.lower()
    if tok == ",":
        return COMMA
    if tok == "#":
        return HASH
    if re.fullmatch(r"\d+\.\d+", tok):
        return STOP  # a decimal is a reading ("7.8"), never part of an address
    if tok[0].isdigit():
        if len(tok) == 6 and tok.isdigit() and tok[0] != "0":
            return PIN
        return NUM if len(re.sub(r"\D", "", tok)) <= 5 else STOP
    if low in lex.street_strong:
        return STRONG
    if low in lex.cities or low in lex.states:
        return PLACE
    if low in lex.street_weak or low in _HOUSE_WORDS or low in _NUMBER_WORDS:
        return WEAK
    if low in lex.clinical or low in lex.common or low in _PIN_WORDS or len(low) < 2:
        return STOP
    if len(low) > 6 and low.endswith(_LOCALITY_SUFFIXES):
        return STRONG
    return OTHER


def find_addresses(text: str) -> list[Entity]:
    """Street addresses (including any PIN code inside them)."""
    lex = lexicon()
    toks = list(_TOKEN.finditer(text))
    kinds = [_classify(t.group(), lex) for t in toks]
    for i in range(1, len(kinds)):
        # Streets are named after anything ("mg road", "station road", "hospital road").
        if kinds[i] == STRONG and kinds[i - 1] == STOP and toks[i - 1].group().isalpha():
            if toks[i - 1].group().lower() not in _FUNCTION_WORDS:
                kinds[i - 1] = OTHER
    cue_at = _cue_positions(toks)
    spans: list[tuple[int, int]] = []
    for i, kind in enumerate(kinds):
        if kind in (STRONG, PIN) or (kind == HASH) or i in cue_at or _house_number(toks, kinds, i):
            a, b = _grow(kinds, i)
            if spans and a <= spans[-1][1]:
                a = min(a, spans[-1][0])
                b = max(b, spans[-1][1])
                spans.pop()
            spans.append((a, b))
    found = []
    for a, b in spans:
        score = _score(kinds[a : b + 1], cued=any(a <= c <= b for c in cue_at))
        if score:
            start, end = toks[a].start(), toks[b].end()
            found.append(Entity(ADDRESS, start, end, score, text[start:end]))
    return found


def _cue_positions(toks: list[re.Match[str]]) -> set[int]:
    """Indices of the first word after "i live at", "address is", "resident of" ..."""
    lower = [t.group().lower() for t in toks]
    out = set()
    for i, word in enumerate(lower):
        if word in _CUES or word == "address":
            j = i + 1
            while j < len(lower) and (lower[j] in _CUE_LINKS or lower[j] in (",", "my")):
                j += 1
            if j < len(lower) and j > i + 1 - (word == "address"):
                out.add(j)
    return out


def _house_number(toks: list[re.Match[str]], kinds: list[int], i: int) -> bool:
    """A number right after "flat", "house no", "h. no", "plot" ..."""
    if kinds[i] != NUM or i == 0:
        return False
    prev = [t.group().lower() for t in toks[max(0, i - 2) : i]]
    return any(p in _HOUSE_WORDS for p in prev) or (prev[-1:] == ["no"] and len(prev) == 2)


def _grow(kinds: list[int], i: int) -> tuple[int, int]:
    """Extend an anchor left and right over address-like tokens."""
    a = i
    unknown = 0
    while a > 0 and kinds[a - 1] != STOP:
        unknown = unknown + 1 if kinds[a - 1] == OTHER else 0
        if unknown > 3:
            break
        a -= 1
    b = i
    while b + 1 < len(kinds) and kinds[b + 1] != STOP:
        if kinds[b + 1] == OTHER and not _address_ahead(kinds, b + 1):
            break
        b += 1
    while a < b and kinds[a] in (COMMA, WEAK) and kinds[a] != HASH and not _starts_house(kinds, a):
        a += 1
    while b > a and kinds[b] in (COMMA, WEAK):
        b -= 1
    return a, b


def _starts_house(kinds: list[int], a: int) -> bool:
    return kinds[a] == WEAK and a + 1 < len(kinds) and kinds[a + 1] in (NUM, WEAK, HASH)


def _address_ahead(kinds: list[int], j: int) -> bool:
    """Whether an unknown word at ``j`` is followed closely by more of the address."""
    for k in range(j + 1, min(j + 4, len(kinds))):
        if kinds[k] in (STRONG, PLACE, PIN, NUM, WEAK):
            return True
        if kinds[k] == STOP:
            return False
    return False


def _score(kinds: list[int], *, cued: bool) -> float:
    """Confidence from how many kinds of address evidence the span holds."""
    evidence = sum(
        (
            STRONG in kinds,
            NUM in kinds or HASH in kinds,
            PIN in kinds,
            PLACE in kinds,
            kinds.count(STRONG) >= 2,
            cued and OTHER in kinds,
        )
    )
    if STRONG not in kinds and not (PIN in kinds and PLACE in kinds) and not cued:
        return 0.0
    if evidence >= 3:
        return 0.85
    if evidence == 2:
        return 0.7
    if STRONG in kinds and (OTHER in kinds or cued):
        return 0.6
    return 0.0
