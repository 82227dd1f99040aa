"""Word lists the recognisers share, loaded once from ``dhanvantri/privacy/data``.

The lists are data, not code, so a deployment can extend them (more regional names, local
brands of drugs) without touching the recognisers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Lexicon:
    """Sets of lowercase words.

    Attributes:
        given: Common Indian given names.
        surnames: Common Indian surnames.
        ambiguous: Names that are also everyday words; never a name without context.
        clinical: Drugs, conditions, symptoms, vitals, units and anatomy words.
        common: Everyday English words that are never part of a name or a locality.
        cities: Indian cities.
        states: Indian states and their name parts.
        street_strong: Words that mark a street address on their own ("nagar", "road").
        street_weak: Words that continue an address but also occur elsewhere ("block", "post").
    """

    given: frozenset[str]
    surnames: frozenset[str]
    ambiguous: frozenset[str]
    clinical: frozenset[str]
    common: frozenset[str]
    cities: frozenset[str]
    states: frozenset[str]
    street_strong: frozenset[str]
    street_weak: frozenset[str]

    def is_name(self, word: str) -> bool:
        """Whether ``word`` (lowercase) is a known given name or surname."""
        return word in self.given or word in self.surnames


def _load(name: str) -> object:
    return json.loads(resources.files("dhanvantri.privacy.data").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shared lexicon (loaded on first use)."""
    names = _load("names.json")
    clinical = _load("clinical.json")
    places = _load("places.json")
    common = _load("common_words.json")
    assert isinstance(names, dict) and isinstance(clinical, dict) and isinstance(places, dict)
    assert isinstance(common, list)
    return Lexicon(
        given=frozenset(names["given"]),
        surnames=frozenset(names["surnames"]),
        ambiguous=frozenset(names["ambiguous"]),
        clinical=frozenset(w for words in clinical.values() for w in words),
        common=frozenset(common),
        cities=frozenset(places["cities"]),
        states=frozenset(places["states"]),
        street_strong=frozenset(places["street_strong"]),
        street_weak=frozenset(places["street_weak"]),
    )
