"""The drug-drug interaction table and pair matching.

Entries name a generic or ``@tag`` (every medicine carrying that tag) on each side, so one
entry such as ``warfarin + @nsaid`` covers ibuprofen, diclofenac and their combinations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from dhanvantri.knowledge.medicines import Medicine, MedicineTable, load_medicines

# How an interaction level is reported by the safety gate.
LEVEL_SEVERITY = {"contraindicated": "block", "major": "warn", "moderate": "info"}


@dataclass(frozen=True, slots=True)
class Interaction:
    """One clinically important pair and what to do about it."""

    a: str
    b: str
    level: str
    effect: str
    advice: str
    sources: tuple[str, ...]

    @property
    def severity(self) -> str:
        """The safety gate's severity for this level."""
        return LEVEL_SEVERITY[self.level]

    @property
    def specificity(self) -> int:
        """2 when both sides name a generic, 0 when both are tags: named pairs win ties."""
        return sum(not side.startswith("@") for side in (self.a, self.b))


def match_keys(med: Medicine) -> frozenset[str]:
    """The names an interaction entry can use for ``med``: generic, ingredients and ``@tags``."""
    return frozenset({med.generic, *med.ingredients, *(f"@{t}" for t in med.tags)})


class InteractionTable:
    """All interaction entries; :meth:`between` finds the one that matters for a pair."""

    def __init__(self, entries: list[Interaction], sources: dict[str, str]) -> None:
        self.entries = tuple(entries)
        self.sources = sources

    def __len__(self) -> int:
        return len(self.entries)

    def between(self, first: Medicine, second: Medicine) -> Interaction | None:
        """The most severe (then most specific) interaction between two medicines, or None."""
        keys1, keys2 = match_keys(first), match_keys(second)
        found = [
            e for e in self.entries
            if (e.a in keys1 and e.b in keys2) or (e.a in keys2 and e.b in keys1)
        ]
        if not found:
            return None
        order = list(LEVEL_SEVERITY)
        return min(found, key=lambda e: (order.index(e.level), -e.specificity))


@cache
def load_interactions() -> InteractionTable:
    """The shipped interaction table, checked against the medicine table (parsed once)."""
    path = resources.files("dhanvantri.knowledge") / "data" / "interactions.json"
    return parse_interactions(json.loads(path.read_text("utf-8")), load_medicines())


def parse_interactions(raw: dict[str, Any], medicines: MedicineTable) -> InteractionTable:
    """Build the table; raises ValueError for unknown generics, tags, levels or sources."""
    tags = {f"@{t}" for med in medicines for t in med.tags}
    generics = {name for med in medicines for name in (med.generic, *med.ingredients)}
    sources = dict(raw["sources"])
    entries = []
    for i, e in enumerate(raw["interactions"]):
        where = f"interactions[{i}] ({e.get('a')} + {e.get('b')})"
        for side in (e["a"], e["b"]):
            if side not in tags and side not in generics:
                raise ValueError(f"{where}: {side!r} is neither a known generic nor a used tag")
        if e["severity"] not in LEVEL_SEVERITY:
            raise ValueError(f"{where}: unknown severity {e['severity']!r}")
        if not e["sources"] or any(s not in sources for s in e["sources"]):
            raise ValueError(f"{where}: unknown sources {e['sources']!r}")
        entries.append(Interaction(e["a"], e["b"], e["severity"], e["effect"], e["advice"],
                                   tuple(e["sources"])))
    return InteractionTable(entries, sources)
