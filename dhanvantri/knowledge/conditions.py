"""The knowledge base of common primary-care conditions, shipped as JSON in the package.

Each condition (``data/conditions/*.json``) carries the features used to match a patient's
symptoms, the questions that tell it apart, red flags, first-line generic medicines with adult
doses, lab tests, advice, follow-up and the public sources the facts come from. The symptom
lexicon (``data/symptoms.json``) maps the words patients use to the feature ids.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

_DATA = "dhanvantri.knowledge"


class KnowledgeDataError(ValueError):
    """A knowledge data file is malformed; the message names the entry and field."""


@dataclass(frozen=True, slots=True)
class Source:
    """A public reference for a condition's facts."""

    publisher: str
    document: str
    url: str = ""

    def cite(self) -> str:
        """One-line citation, e.g. ``"ICMR: Standard Treatment Workflows ... (https://...)"``."""
        tail = f" ({self.url})" if self.url else ""
        return f"{self.publisher}: {self.document}{tail}"


@dataclass(frozen=True, slots=True)
class KeyQuestion:
    """A question that helps confirm or rule out a condition; answered yes/no about ``symptom``."""

    id: str
    text: str
    symptom: str


# Frequency codes understood by the safety gate (administrations per day; SOS = as needed).
FREQUENCY_CODES = ("OD", "BD", "TDS", "TID", "QID", "QDS", "HS", "SOS", "STAT", "ONCE", "Q6H",
                   "Q8H", "Q12H", "WEEKLY")


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """The machine-readable part of a dose, as the safety gate checks it: 650 mg Q6H."""

    amount: float
    unit: str
    freq: str


@dataclass(frozen=True, slots=True)
class MedicineLine:
    """A protocol medicine with an adult dose. ``when`` limits it to a situation.

    ``order`` is None where the regimen cannot be written as one amount and frequency (a
    vaccine schedule, a weight-banded combination); such lines must be checked by hand.
    """

    generic: str
    dose: str
    route: str
    frequency: str
    duration_days: int
    when: str = ""
    order: OrderSpec | None = None


@dataclass(frozen=True, slots=True)
class Symptom:
    """A canonical symptom and the words that name it."""

    id: str
    label: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of the knowledge base."""

    id: str
    title: str
    system: str
    aliases: tuple[str, ...]
    description: str
    features: dict[str, int]
    key_questions: tuple[KeyQuestion, ...]
    red_flags: tuple[str, ...]
    medicines: tuple[MedicineLine, ...]
    avoid: tuple[str, ...]
    lab_tests: tuple[str, ...]
    advice: tuple[str, ...]
    follow_up_days: int
    sources: tuple[Source, ...]

    def passage_text(self, symptoms: dict[str, Symptom]) -> str:
        """The text that is embedded and returned by search: how the condition presents.

        Medicines are left out on purpose: passages go to the language model that phrases the
        conversation, and it must have no drug names or doses to repeat to the patient.
        """
        ranked = sorted(self.features.items(), key=lambda item: (-item[1], item[0]))
        labels = ", ".join(symptoms[sid].label for sid, _ in ranked)
        return (f"{self.title}. Also called {', '.join(self.aliases)}. {self.description} "
                f"Symptoms: {labels}.")

    def source_text(self) -> str:
        """All citations, ``"; "``-separated."""
        return "; ".join(src.cite() for src in self.sources)


def _require(entry: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or (kind is not int and not value):
        raise KnowledgeDataError(f"{where}: field {key!r} must be a non-empty {kind.__name__}")
    return value


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _require(entry, key, list, where)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise KnowledgeDataError(f"{where}: field {key!r} must hold non-empty strings")
    return tuple(values)


def _medicine(raw: dict[str, Any], where: str) -> MedicineLine:
    days = _require(raw, "duration_days", int, where)
    if days < 1:
        raise KnowledgeDataError(f"{where}: duration_days must be at least 1")
    order = None
    if "order" in raw:
        spec = raw["order"]
        if spec.get("freq") not in FREQUENCY_CODES or not spec.get("amount", 0) > 0:
            raise KnowledgeDataError(f"{where}: bad order {spec!r} for {raw.get('generic')!r}")
        order = OrderSpec(float(spec["amount"]), str(spec["unit"]), spec["freq"])
    return MedicineLine(generic=_require(raw, "generic", str, where).strip().lower(),
                        dose=_require(raw, "dose", str, where),
                        route=_require(raw, "route", str, where),
                        frequency=_require(raw, "frequency", str, where),
                        duration_days=days, when=raw.get("when", ""), order=order)


def _condition(raw: dict[str, Any], symptoms: dict[str, Symptom], where: str) -> Condition:
    cid = _require(raw, "id", str, where)
    where = f"{where} [{cid}]"
    features = _require(raw, "features", dict, where)
    unknown = sorted(set(features) - set(symptoms))
    if unknown:
        raise KnowledgeDataError(f"{where}: unknown symptom ids in features: {unknown}")
    questions = tuple(KeyQuestion(**q) for q in _require(raw, "key_questions", list, where))
    for q in questions:
        if q.symptom not in symptoms:
            raise KnowledgeDataError(f"{where}: question {q.id!r} probes unknown {q.symptom!r}")
    follow_up = _require(raw, "follow_up_days", int, where)
    if follow_up < 1:
        raise KnowledgeDataError(f"{where}: follow_up_days must be at least 1")
    return Condition(
        id=cid, title=_require(raw, "title", str, where),
        system=_require(raw, "system", str, where),
        aliases=_strings(raw, "aliases", where),
        description=_require(raw, "description", str, where),
        features={k: int(v) for k, v in features.items()}, key_questions=questions,
        red_flags=_strings(raw, "red_flags", where),
        medicines=tuple(_medicine(m, where) for m in _require(raw, "medicines", list, where)),
        avoid=tuple(raw.get("avoid", ())), lab_tests=_strings(raw, "lab_tests", where),
        advice=_strings(raw, "advice", where), follow_up_days=follow_up,
        sources=tuple(Source(**s) for s in _require(raw, "sources", list, where)))


def _data_files() -> list[Any]:
    root = resources.files(_DATA) / "data"
    files = [root / "symptoms.json"]
    files += sorted((f for f in (root / "conditions").iterdir() if f.name.endswith(".json")),
                    key=lambda f: f.name)
    return files


@lru_cache(maxsize=1)
def load_symptoms() -> dict[str, Symptom]:
    """The symptom lexicon, by id."""
    raw = json.loads((resources.files(_DATA) / "data" / "symptoms.json").read_text("utf-8"))
    return {sid: Symptom(sid, entry["label"], tuple(t.lower() for t in entry["terms"]))
            for sid, entry in raw.items() if not sid.startswith("_")}


@lru_cache(maxsize=1)
def load_conditions() -> tuple[Condition, ...]:
    """Every condition, validated; raises :class:`KnowledgeDataError` on a malformed entry."""
    symptoms = load_symptoms()
    out: list[Condition] = []
    for file in _data_files()[1:]:
        for i, raw in enumerate(json.loads(file.read_text("utf-8"))):
            out.append(_condition(raw, symptoms, f"{file.name}#{i}"))
    ids = [c.id for c in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise KnowledgeDataError(f"duplicate condition ids: {dupes}")
    return tuple(out)


def data_digest() -> str:
    """SHA-256 over the shipped data files: the index is rebuilt when this changes."""
    digest = hashlib.sha256()
    for file in _data_files():
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
