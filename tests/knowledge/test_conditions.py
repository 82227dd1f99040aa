"""Integrity of the shipped knowledge base."""

from __future__ import annotations

import re

import pytest

from dhanvantri.knowledge.conditions import (
    KnowledgeDataError,
    _condition,
    data_digest,
    load_conditions,
    load_symptoms,
)

CONDITIONS = load_conditions()
REQUIRED = {"viral_fever", "dengue", "malaria", "typhoid", "common_cold", "pharyngitis",
            "gastroenteritis", "uti", "gerd", "migraine", "tension_headache", "hypertension",
            "diabetes", "asthma", "allergic_rhinitis", "conjunctivitis", "tinea", "scabies",
            "low_back_pain"}
DOSE = re.compile(r"\d+(\.\d+)?\s*(mg|mcg|g|ml|iu)\b", re.I)


def test_at_least_forty_conditions_including_the_required_ones() -> None:
    assert len(CONDITIONS) >= 40
    assert REQUIRED <= {c.id for c in CONDITIONS}


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: c.id)
def test_every_entry_is_complete_and_sourced(condition) -> None:
    assert condition.sources and all(s.publisher and s.document for s in condition.sources)
    assert len(condition.key_questions) >= 2
    assert len(condition.red_flags) >= 2
    assert condition.lab_tests and condition.advice
    assert condition.follow_up_days >= 1
    assert condition.medicines
    for med in condition.medicines:
        assert med.generic and med.dose and med.frequency and med.route
        assert med.duration_days >= 1


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: c.id)
def test_questions_never_name_a_medicine_dose_or_diagnosis(condition) -> None:
    generics = {m.generic.split()[0] for c in CONDITIONS for m in c.medicines}
    # A title that is also a symptom word ("Constipation") may be asked about as a symptom.
    terms = {t for s in load_symptoms().values() for t in s.terms}
    titles = {c.title.lower() for c in CONDITIONS} - terms
    for question in condition.key_questions:
        text = question.text.lower()
        assert not DOSE.search(text), question.id
        assert not any(re.search(rf"\b{re.escape(g)}\b", text) for g in generics), question.id
        assert not any(t in text for t in titles), question.id


def test_features_and_questions_use_lexicon_symptoms() -> None:
    symptoms = load_symptoms()
    for condition in CONDITIONS:
        assert set(condition.features) <= set(symptoms)
        assert all(q.symptom in symptoms for q in condition.key_questions)
        assert all(1 <= w <= 3 for w in condition.features.values())


def test_machine_readable_doses_cover_most_lines() -> None:
    lines = [m for c in CONDITIONS for m in c.medicines]
    with_order = [m for m in lines if m.order]
    assert len(with_order) / len(lines) >= 0.9
    for med in with_order:
        assert med.order.amount > 0 and med.order.unit


def test_every_protocol_generic_resolves_in_the_medicine_table() -> None:
    medicines = pytest.importorskip("dhanvantri.knowledge.medicines")
    table = medicines.load_medicines()
    generics = sorted({m.generic for c in CONDITIONS for m in c.medicines})
    assert [g for g in generics if table.lookup(g) is None] == []


def test_passage_text_leaves_medicines_out() -> None:
    symptoms = load_symptoms()
    for condition in CONDITIONS:
        text = condition.passage_text(symptoms).lower()
        assert condition.title.lower() in text
        assert not DOSE.search(text), condition.id


def test_malformed_entries_are_rejected_with_the_field_named() -> None:
    raw = {"id": "x", "title": "X", "system": "s", "aliases": ["x"], "description": "d",
           "features": {"no_such_symptom": 1}, "key_questions": [], "red_flags": ["r"],
           "medicines": [], "lab_tests": ["l"], "advice": ["a"], "follow_up_days": 1,
           "sources": [{"publisher": "p", "document": "d"}]}
    with pytest.raises(KnowledgeDataError, match="unknown symptom"):
        _condition(raw, load_symptoms(), "test")
    raw["features"] = {"fever": 1}
    with pytest.raises(KnowledgeDataError, match="key_questions"):
        _condition(raw, load_symptoms(), "test")


def test_digest_is_stable() -> None:
    assert data_digest() == data_digest()
    assert len(data_digest()) == 64
