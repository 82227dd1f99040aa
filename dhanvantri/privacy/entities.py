"""PHI entity types and the :class:`Entity` value object.

An entity's ``repr`` shows its type, position and score but never the matched text, so an entity
can be logged or put in an exception message without leaking what the patient said.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PERSON = "PERSON"
PHONE = "PHONE"
AADHAAR = "AADHAAR"
PAN = "PAN"
ABHA_NUMBER = "ABHA_NUMBER"
ABHA_ADDRESS = "ABHA_ADDRESS"
EMAIL = "EMAIL"
ADDRESS = "ADDRESS"
PIN_CODE = "PIN_CODE"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
DATE = "DATE"  # a calendar date without birth context (visit dates are PHI too)
ID_NUMBER = "ID_NUMBER"  # a long digit run that fits no known format (e.g. a misheard id)
PASSPORT = "PASSPORT"
VOTER_ID = "VOTER_ID"
CREDIT_CARD = "CREDIT_CARD"

ENTITY_TYPES = (
    PERSON,
    PHONE,
    AADHAAR,
    PAN,
    ABHA_NUMBER,
    ABHA_ADDRESS,
    EMAIL,
    ADDRESS,
    PIN_CODE,
    DATE_OF_BIRTH,
    DATE,
    ID_NUMBER,
    PASSPORT,
    VOTER_ID,
    CREDIT_CARD,
)

# When two detections overlap, the more specific type wins before score is considered:
# a checksum-valid Aadhaar beats a generic phone or id match over the same digits.
PRIORITY = {
    ABHA_ADDRESS: 10,
    EMAIL: 9,
    AADHAAR: 8,
    ABHA_NUMBER: 8,
    PAN: 8,
    CREDIT_CARD: 7,
    PHONE: 6,
    PASSPORT: 5,
    VOTER_ID: 5,
    DATE_OF_BIRTH: 5,
    PIN_CODE: 4,
    DATE: 4,
    ADDRESS: 3,
    ID_NUMBER: 2,
    PERSON: 1,
}


@dataclass(frozen=True, slots=True)
class Entity:
    """One detected piece of PHI.

    Attributes:
        type: One of :data:`ENTITY_TYPES`.
        start: Start offset in the analysed text.
        end: End offset (exclusive).
        score: Confidence in [0, 1].
        text: The matched text. Never shown by ``repr``.
    """

    type: str
    start: int
    end: int
    score: float
    text: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return (
            f"Entity(type={self.type!r}, start={self.start}, end={self.end}, "
            f"score={self.score:.2f})"
        )

    __str__ = __repr__


def resolve_overlaps(entities: list[Entity]) -> list[Entity]:
    """Keep one entity per overlapping region, sorted by position.

    Structured ids outrank free-text kinds; among equals the longer span wins (a 14-digit ABHA
    number over a 12-digit Aadhaar-looking tail of it), then the higher score. A PIN code inside
    an address is absorbed by the address.
    """
    addresses = [e for e in entities if e.type == ADDRESS]
    # A PIN code inside an address is part of that address, not an entity of its own.
    entities = [
        e
        for e in entities
        if e.type != PIN_CODE or not any(a.start <= e.start and e.end <= a.end for a in addresses)
    ]
    ranked = sorted(
        entities,
        key=lambda e: (PRIORITY.get(e.type, 0), e.end - e.start, e.score),
        reverse=True,
    )
    kept: list[Entity] = []
    for ent in ranked:
        if all(ent.end <= k.start or ent.start >= k.end for k in kept):
            kept.append(ent)
    return sorted(kept, key=lambda e: e.start)
