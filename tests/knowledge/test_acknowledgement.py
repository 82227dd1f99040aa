"""Grounded acknowledgements from the intake record, and the check on any other sentence."""

from __future__ import annotations

import re

import pytest

from dhanvantri.knowledge.acknowledgement import acknowledge
from dhanvantri.knowledge.acknowledgement_check import problems
from dhanvantri.knowledge.intake import IntakeState


def said(*lines: str, turn: int = 0) -> tuple[str, dict, dict]:
    """The acknowledgement of the last line, after the ones before it."""
    state = IntakeState()
    for line in lines[:-1]:
        state.update(line)
    before = state.as_record()
    state.update(lines[-1])
    after = state.as_record()
    return acknowledge(before, after, turn=turn), before, after


def assert_grounded(text: str, before: dict, after: dict, heard: str) -> None:
    """Each sentence passes the check a model's sentence must pass."""
    assert text
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        assert problems(sentence, before, after, heard) == [], (sentence, problems(
            sentence, before, after, heard))


@pytest.mark.parametrize(("lines", "words"), [
    (["I have had a fever and body ache for three days"],
     ("fever", "body ache", "three days")),
    (["i have a cough", "it is a dry cough"], ("dry cough",)),
    (["i have a fever", "no vomiting"], ("no vomiting",)),
    (["i have a fever", "I'm allergic to penicillin"], ("allergic to penicillin",)),
    (["i have a fever", "no allergies"], ("no allergies",)),
    (["i have a fever", "I am taking metformin"], ("metformin",)),
    (["i have a fever", "I have diabetes"], ("diabetes",)),
    (["i have a fever", "I am 34 years old"], ("34 years",)),
    (["i have a fever", "I am female"], ("female",)),
    (["i have a fever", "I am pregnant"], ("pregnant",)),
    (["my son has fever", "he weighs 16 kilos"], ("16 kilograms",)),
    (["i have a fever", "My temperature was 101 this morning"], ("101 degrees",)),
    (["i have a fever", "temperature was 38.5"], ("38.5 degrees",)),
    (["i have a headache", "it is moderate"], ("moderate",)),
])
def test_each_kind_of_fact_is_said_back(lines: list[str], words: tuple[str, ...]) -> None:
    text, before, after = said(*lines)
    for word in words:
        assert word in text.lower(), (word, text)
    assert_grounded(text, before, after, lines[-1])


def test_phrasing_varies_with_the_turn_and_is_stable_for_one_turn() -> None:
    lines = ("i have a fever", "I'm allergic to penicillin")
    phrasings = {said(*lines, turn=t)[0] for t in range(4)}
    assert len(phrasings) > 1
    assert said(*lines, turn=3)[0] == said(*lines, turn=3)[0]


@pytest.mark.parametrize("lines", [
    ["my throat is very sore", "it is severe"],
    ["I have had a fever for four days"],
    ["my daughter has a fever and cough", "she is 4 years old"],
])
def test_empathy_where_the_turn_calls_for_it(lines: list[str]) -> None:
    text, before, after = said(*lines)
    assert re.search(r"sorry|sounds|must be|long time", text, re.I), text
    assert_grounded(text, before, after, lines[-1])


def test_nothing_understood_says_nothing() -> None:
    assert said("i have a fever", "what a lovely day it is")[0] == ""
    assert said("i have a fever", "I don't know")[0] == ""


def test_a_combined_turn_reads_naturally_and_names_no_more_than_was_said() -> None:
    text, _, _ = said("i have a fever", "I am 34 years old male and I weigh 70 kilos")
    assert "34 years" in text and "male" in text and "70 kilograms" in text
    text, _, _ = said("i have a fever", "I take metformin for diabetes")
    assert "metformin" in text and "diabetes" in text and "sugar" not in text


def test_the_record_holds_no_names_so_the_acknowledgement_has_none() -> None:
    text, _, _ = said("hello this is <PERSON_1>, i have a fever since 2 days")
    assert "<" not in text and "fever" in text.lower()


BEFORE_AFTER = ("i have a fever", "My temperature was 101 this morning")


@pytest.mark.parametrize(("sentence", "kind"), [
    ("It's not uncommon for people to feel this way after a long day.", "minimising"),
    ("It is just a small fever.", "minimising"),
    ("Nothing serious, I think.", "minimising"),
    ("Don't worry, you'll be fine.", "reassurance"),
    ("There is nothing to worry about.", "reassurance"),
    ("It sounds like a viral fever.", "names"),
    ("You should take paracetamol for it.", "names"),
    ("Take 500 mg twice a day.", "mentions a dose"),
    ("A temperature of 104 degrees — noted.", "invented number"),
    ("Fever and cough, noted.", "invented symptom"),
    ("How long have you had the fever?", "a question"),
    ("My temperature was 101 this morning.", "speaks as the patient"),
    ("I'm glad about the 101 degrees.", "cheer"),
    ("101 degrees (Reply briefly.)", "not speakable"),
    ("I'm sorry, that is very kind.", "non-sequitur"),
    ("It's a lovely day for a walk.", "non-sequitur"),
    ("A temperature of 101 degrees this morning is something I have written down in the "
     "notes for the doctor to see later today.", "too long"),
])
def test_the_check_rejects_each_banned_kind(sentence: str, kind: str) -> None:
    state = IntakeState()
    state.update(BEFORE_AFTER[0])
    before = state.as_record()
    state.update(BEFORE_AFTER[1])
    found = problems(sentence, before, state.as_record(), BEFORE_AFTER[1])
    assert any(f.startswith(kind) for f in found), (sentence, found)


@pytest.mark.parametrize("sentence", [
    "101 degrees — thank you.",
    "A temperature of 101 this morning, noted.",
    "That sounds hard.",
    "I'm sorry to hear that.",
    "Thank you <PERSON_1>, I am sorry you feel unwell.",
])
def test_the_check_accepts_good_sentences(sentence: str) -> None:
    state = IntakeState()
    state.update(BEFORE_AFTER[0])
    before = state.as_record()
    state.update(BEFORE_AFTER[1])
    assert problems(sentence, before, state.as_record(), BEFORE_AFTER[1]) == []


def test_names_the_patient_gave_may_be_said_back() -> None:
    _, before, after = said("i have a fever", "I take metformin")
    assert problems("Noted: you take metformin.", before, after, "I take metformin") == []
    assert problems("Noted: you take amoxicillin.", before, after, "I take metformin")
    # With no record at hand, the patient's own words are enough.
    assert problems("Metformin — noted.", {}, {}, "i take metformin daily") == []
