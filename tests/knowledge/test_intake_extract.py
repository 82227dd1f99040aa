"""Deterministic extraction from patient text: symptoms with negation, and intake facts."""

from __future__ import annotations

import pytest

from dhanvantri.knowledge import extract
from dhanvantri.knowledge.lexicon import answer_polarity, find_symptoms, normalise


def found(text: str) -> dict[str, bool]:
    return {f.symptom: f.present for f in find_symptoms(text)}


@pytest.mark.parametrize(("text", "expected"), [
    ("i have fever and body ache since 3 days, no vomiting",
     {"fever": True, "body_ache": True, "vomiting": False}),
    ("bukhar nahi hai but khansi hai", {"fever": False, "cough": True}),
    ("I don't have any cough", {"cough": False}),
    ("my name is <PERSON_1>, loose motions and ulti since yesterday",
     {"diarrhoea": True, "vomiting": True}),
    ("burning while passing urine and going to the toilet again and again",
     {"burning_urine": True, "frequent_urine": True}),
    ("no fever and headache is there", {"fever": False, "headache": True}),
    ("SAR DARD and Pain Behind My Eyes", {"headache": True, "eye_pain": True}),
])
def test_symptoms_with_negation(text: str, expected: dict[str, bool]) -> None:
    got = found(text)
    for sid, present in expected.items():
        assert got.get(sid) is present, (sid, got)


def test_words_inside_other_words_do_not_match() -> None:
    assert "cough" not in found("i have a coughdrop brand question")
    assert found("") == {}


@pytest.mark.parametrize(("text", "days"), [
    ("fever for 3 days", 3), ("since yesterday", 1), ("two weeks", 14),
    ("teen din se bukhar", 3), ("for a couple of days", 2), ("since 2 months", 60),
    ("since this morning", 0.5), ("kal se", 1),
])
def test_duration(text: str, days: float) -> None:
    assert extract.duration(normalise(text))[0] == pytest.approx(days)


@pytest.mark.parametrize("text", ["i am 34", "34 years old", "i am 5 months pregnant", "hello"])
def test_age_is_not_a_duration(text: str) -> None:
    assert extract.duration(normalise(text)) is None


@pytest.mark.parametrize(("text", "age"), [
    ("i am 34", 34), ("34 years old", 34), ("my age is 61", 61), ("aged 19", 19),
    ("i'm 45 and diabetic", 45), ("i am 5 months pregnant", None), ("fever for 3 days", None),
])
def test_age(text: str, age: float | None) -> None:
    assert extract.age(normalise(text)) == age


def test_bare_number_is_an_age_only_when_asked() -> None:
    assert extract.age("34") is None
    assert extract.age("34", expecting=True) == 34


@pytest.mark.parametrize(("text", "band", "score"), [
    ("pain is 8/10", "severe", 8), ("about 5 out of 10", "moderate", 5),
    ("it is very bad", "severe", None), ("mild only", "mild", None),
    ("thoda sa", "mild", None),
])
def test_severity(text: str, band: str, score: int | None) -> None:
    assert extract.severity(normalise(text)) == (band, score)


def test_allergies() -> None:
    assert extract.allergies("i am allergic to penicillin and sulfa drugs") == (
        ["penicillin", "sulfa drugs"], False)
    assert extract.allergies("sulfa allergy") == (["sulfa"], False)
    assert extract.allergies("no allergies") == ([], True)
    assert extract.allergies("i am not allergic to anything") == ([], True)


def test_medications_and_conditions() -> None:
    assert extract.medications("i take metformin 500 twice daily") == (["metformin"], False)
    assert extract.medications("i am taking amlodipine tablets") == (["amlodipine"], False)
    assert extract.medications("not taking any medicines") == ([], True)
    assert extract.known_conditions("i have diabetes and high bp") == (
        ["diabetes", "hypertension"], False)
    assert extract.known_conditions("no other problems") == ([], True)


def test_pregnancy_and_sex() -> None:
    assert extract.pregnancy("i am pregnant") is True
    assert extract.pregnancy("i am 3 months pregnant") is True
    assert extract.pregnancy("not pregnant") is False
    assert extract.pregnancy("fever") is None
    assert extract.sex("i am a 30 year old woman") == "female"
    assert extract.sex("i am male") == "male"


@pytest.mark.parametrize(("text", "polarity"), [
    ("yes", True), ("haan", True), ("yes a little", True), ("no", False), ("nahi", False),
    ("not really", False), ("i think maybe", None),
])
def test_answer_polarity(text: str, polarity: bool | None) -> None:
    assert answer_polarity(text) is polarity
