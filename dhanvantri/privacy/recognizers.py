"""Presidio recognisers: the built-ins we keep and our own for India.

Built-ins are chosen one by one rather than loaded wholesale: the default set carries the UK NHS
recogniser (which tags Indian mobiles as ``UK_NHS``), US ids, and ``DATE_TIME`` (which eats "3
days"). Our recognisers wrap the finders in this package so that Presidio's registry, thresholds
and explanations apply to them like to any other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    InAadhaarRecognizer,
    InPanRecognizer,
    InPassportRecognizer,
    InVoterRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
)

from dhanvantri.privacy import entities as E
from dhanvantri.privacy.addresses import find_addresses
from dhanvantri.privacy.dates import find_dates
from dhanvantri.privacy.entities import Entity
from dhanvantri.privacy.identifiers import find_identifiers
from dhanvantri.privacy.names import find_names

# Presidio's entity names for what the built-ins find, mapped to ours.
PRESIDIO_TO_OURS = {
    "PERSON": E.PERSON,
    "PHONE_NUMBER": E.PHONE,
    "EMAIL_ADDRESS": E.EMAIL,
    "IN_AADHAAR": E.AADHAAR,
    "IN_PAN": E.PAN,
    "IN_PASSPORT": E.PASSPORT,
    "IN_VOTER": E.VOTER_ID,
    "CREDIT_CARD": E.CREDIT_CARD,
}


# Results the detector already computed for the text being analysed (per thread), so a finder
# that also decides whether spaCy must run is not run twice.
PREFOUND = threading.local()


class FinderRecognizer(EntityRecognizer):
    """Adapts a ``find_*(text) -> list[Entity]`` function to Presidio's recogniser interface."""

    def __init__(self, name: str, finder: Callable[[str], list[Entity]], kinds: list[str]):
        self._finder = finder
        self.name: str = name
        super().__init__(supported_entities=kinds, name=name, supported_language="en")

    def load(self) -> None:
        """Nothing to load: the word lists load lazily and are shared."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Run the finder and keep the requested entity types."""
        wanted = set(entities)
        cached = getattr(PREFOUND, "results", None)
        if cached is not None and cached[0] == text and self.name in cached[1]:
            found = cached[1][self.name]
        else:
            found = self._finder(text)
        return [
            RecognizerResult(
                e.type,
                e.start,
                e.end,
                e.score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    # Our finders weigh their own context words already.
                    RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                },
            )
            for e in found
            if e.type in wanted
        ]


def india_recognizers() -> list[EntityRecognizer]:
    """Our recognisers for Indian identifiers, names, addresses and dates."""
    return [
        FinderRecognizer(
            "IndiaIdentifierRecognizer",
            find_identifiers,
            [
                E.AADHAAR,
                E.ABHA_NUMBER,
                E.ABHA_ADDRESS,
                E.PHONE,
                E.EMAIL,
                E.PAN,
                E.PIN_CODE,
                E.ID_NUMBER,
            ],
        ),
        FinderRecognizer("IndianNameRecognizer", find_names, [E.PERSON]),
        FinderRecognizer("IndianAddressRecognizer", find_addresses, [E.ADDRESS]),
        FinderRecognizer("CalendarDateRecognizer", find_dates, [E.DATE_OF_BIRTH, E.DATE]),
    ]


def builtin_recognizers() -> list[EntityRecognizer]:
    """The Presidio built-ins that suit Indian consultations."""
    return [
        SpacyRecognizer(supported_entities=["PERSON"]),
        EmailRecognizer(),
        PhoneRecognizer(supported_regions=("IN",)),
        InAadhaarRecognizer(),
        InPanRecognizer(),
        InPassportRecognizer(),
        InVoterRecognizer(),
        CreditCardRecognizer(),
    ]


def presidio_entity_names() -> list[str]:
    """Every entity name the analyser is asked for (Presidio's and ours)."""
    return sorted(set(PRESIDIO_TO_OURS) | set(E.ENTITY_TYPES))
