"""Name resolution for the medicine table: generics, synonyms and Indian brand names.

Indian prescriptions name a medicine by brand with a strength and a form glued on ("Dolo 650
tab", "PAN-40", "Augmentin 625 Duo"), or spell a fixed-dose combination out by its components
("paracetamol + ibuprofen"). :class:`NameIndex` maps all of these to one entry and refuses a
name that two entries claim, so a brand can never silently mean two medicines. For a name that
resolves to nothing it offers the closest known names, so a misspelling ("Augmentine") is told
apart from a medicine the table truly lacks.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")

# Words that follow a name on a prescription line but are not part of it.
_FORM_WORDS = re.compile(
    r"\b(tab|tabs|tablet|tablets|cap|caps|capsule|capsules|syrup|syp|susp|suspension|drops?|"
    r"cream|gel|ointment|oint|lotion|inhaler|rotacaps?|respules|sachets?|injection|inj|dt|ip|"
    r"bp|usp|oral|forte|mg|mcg|ml|iu)\b"
)
_STRENGTH = re.compile(r"\b\d+(?:\.\d+)?\s*(?:k\b)?")
# A strength run into the name ("Augmentin625", "Dolo650"): split it off before matching.
_GLUED_STRENGTH = re.compile(r"(?<=[a-z])(?=\d)")
_COMBO_SPLIT = re.compile(r"\s*(?:\+|/|&|\band\b|\bwith\b|\bplus\b)\s*")
# Below this similarity a "closest name" is noise rather than a likely misspelling.
SUGGEST_CUTOFF = 0.75


def name_key(name: str) -> str:
    """Case-, space- and punctuation-insensitive key: ``"Pan-40"`` -> ``"pan40"``."""
    return re.sub(r"[^a-z0-9+]", "", name.lower())


def combo_key(names: Iterable[str]) -> str:
    """The key of a combination written as its components, in any order."""
    return "+".join(sorted(name_key(n) for n in names))


class NameIndex(Generic[T]):
    """Names (generic, synonym, brand, component list) to entries; one entry per name."""

    def __init__(self, label: Callable[[T], str]) -> None:
        self._label = label
        self._entries: dict[str, T] = {}
        self._shown: dict[str, str] = {}

    def add(self, name: str, entry: T, *, shown: bool = True) -> None:
        """Index ``name``; raises ValueError when another entry already claims it."""
        key = name_key(name)
        existing = self._entries.get(key)
        if existing is not None and existing is not entry:
            raise ValueError(f"name {key!r} maps to both {self._label(existing)} and "
                             f"{self._label(entry)}")
        self._entries[key] = entry
        if shown:
            self._shown.setdefault(key, name)

    def add_combination(self, components: Iterable[str], entry: T) -> None:
        """Index a combination under its components' names, in any order."""
        key = combo_key(components)
        existing = self._entries.get(key)
        if existing is not None and existing is not entry:
            raise ValueError(f"components {key!r} map to both {self._label(existing)} and "
                             f"{self._label(entry)}")
        self._entries[key] = entry

    def lookup(self, name: str) -> T | None:
        """The entry ``name`` refers to (any case, spacing, strength or form), or None."""
        text = name.lower().strip()
        if not text:
            return None
        glued = _GLUED_STRENGTH.sub(" ", text)
        for candidate in dict.fromkeys((text, _FORM_WORDS.sub(" ", text), glued,
                                        _FORM_WORDS.sub(" ", glued))):
            found = self._entries.get(name_key(candidate))
            if found is None:
                found = self._entries.get(name_key(_STRENGTH.sub(" ", candidate)))
            if found is not None:
                return found
        if _COMBO_SPLIT.search(text):
            # Components outside the table (clavulanic acid) still match a combination by name.
            parts = [part.strip() for part in _COMBO_SPLIT.split(text) if part.strip()]
            if len(parts) > 1:
                names = []
                for part in parts:
                    found = self.lookup(part)
                    names.append(self._label(found) if found else _STRENGTH.sub(" ", part))
                return self._entries.get(combo_key(names))
        return None

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Known names closest in spelling to ``name`` (best first), for an unknown name."""
        close = self._close_keys(name, limit * 3)
        names: list[str] = []
        seen: set[str] = set()
        for found in close:
            label = self._label(self._entries[found])
            if label not in seen:
                seen.add(label)
                names.append(self._shown[found])
        return names[:limit]

    def closest(self, name: str) -> tuple[T, float] | None:
        """The entry whose name is spelled most like ``name``, with the similarity (0 to 1)."""
        close = self._close_keys(name, 1)
        if not close:
            return None
        key = name_key(_STRENGTH.sub(" ", _FORM_WORDS.sub(" ", name.lower())))
        return self._entries[close[0]], difflib.SequenceMatcher(None, key, close[0]).ratio()

    def _close_keys(self, name: str, n: int) -> list[str]:
        text = _STRENGTH.sub(" ", _FORM_WORDS.sub(" ", name.lower()))
        key = name_key(text)
        if len(key) < 3:
            return []
        return difflib.get_close_matches(key, self._shown, n=n, cutoff=SUGGEST_CUTOFF)
