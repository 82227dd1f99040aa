"""Common laboratory tests: patient preparation and adult reference ranges.

Loaded once from ``data/lab_tests.json``; :meth:`LabTestTable.lookup` resolves a test's name or
an everyday alias (``"fbs"``, ``"lft"``, ``"cbnaat"``) in any case.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    """One analyte's range for a population; ``low``/``high`` are None for open ends."""

    analyte: str
    unit: str
    population: str
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class LabTest:
    """A test, how the patient prepares for it, and its reference ranges."""

    name: str
    aliases: tuple[str, ...]
    specimen: str
    preparation: str
    ranges: tuple[ReferenceRange, ...]
    sources: tuple[str, ...]


class LabTestTable:
    """All shipped lab tests with name lookup; build it with :func:`load_lab_tests`."""

    def __init__(self, tests: list[LabTest], sources: dict[str, str]) -> None:
        self.tests = tuple(tests)
        self.sources = sources
        self._index = {_key(n): t for t in tests for n in (t.name, *t.aliases)}

    def __len__(self) -> int:
        return len(self.tests)

    def lookup(self, name: str) -> LabTest | None:
        """The test a name or alias refers to, or None."""
        return self._index.get(_key(name))


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@cache
def load_lab_tests() -> LabTestTable:
    """The shipped lab test table (parsed once per process)."""
    path = resources.files("dhanvantri.knowledge") / "data" / "lab_tests.json"
    raw: dict[str, Any] = json.loads(path.read_text("utf-8"))
    sources = dict(raw["sources"])
    tests = []
    for entry in raw["tests"]:
        missing = [s for s in entry["sources"] if s not in sources]
        if missing or not entry["sources"]:
            raise ValueError(f"lab_tests[{entry['name']!r}]: unknown sources {missing}")
        ranges = tuple(ReferenceRange(r["analyte"], r["unit"], r["population"], r.get("low"),
                                      r.get("high"), r.get("note", "")) for r in entry["ranges"])
        tests.append(LabTest(entry["name"], tuple(entry.get("aliases", ())), entry["specimen"],
                             entry["preparation"], ranges, tuple(entry["sources"])))
    return LabTestTable(tests, sources)
