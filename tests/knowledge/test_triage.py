"""Red-flag triage: each flag, negation and history, speech-to-text style, and the advice."""

from __future__ import annotations

import pytest

from dhanvantri.knowledge.red_flags import CONCEPTS, RED_FLAGS
from dhanvantri.knowledge.triage import TriageResult, normalise, present_concepts, triage


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("CHEST PAIN GOING TO MY LEFT ARM", "chest_pain"),
        ("my face is drooping", "stroke"),
        ("lips blue cant breathe", "breathing"),
        ("i want to kill myself", "suicidal"),
        ("he is having a seizure", "seizure"),
        ("she fainted", "unconscious"),
        ("bleeding heavily from the cut", "heavy_bleeding"),
        ("vomiting blood", "gi_bleeding"),
        ("pregnant and bleeding", "pregnancy_emergency"),
        ("worst headache of my life", "thunderclap_headache"),
        ("my throat is swelling", "anaphylaxis"),
        ("fever and stiff neck", "meningitis"),
        ("my baby has sunken eyes", "child_dehydration"),
        ("he drank pesticide", "poisoning"),
        ("snake bite", "envenomation"),
        ("hit his head and is vomiting", "head_injury"),
        ("boiling water spilled and burned her", "severe_burn"),
    ],
)
def test_each_flag_fires(text: str, flag: str) -> None:
    result = triage(text)
    assert result.emergency and flag in result.red_flags


@pytest.mark.parametrize(
    "text",
    [
        "no chest pain", "not bleeding", "I don't have any breathing difficulty",
        "denies chest pain radiating to the arm", "my chest pain went away last year",
        "she had fits as a child", "the bleeding stopped", "seene mein dard nahi hai",
        "never had a seizure", "what if it is a stroke", "I am not pregnant, just bleeding gums",
        "my father died of a heart attack", "i have no thoughts of hurting myself",
        "i am not having chest pain or sweating", "he is not having a seizure, just shivering",
        "im not having any thoughts of suicide",
    ],
)
def test_negated_hypothetical_and_past_mentions_do_not_fire(text: str) -> None:
    assert triage(text).emergency is False


def test_negation_does_not_reach_past_a_new_assertion() -> None:
    assert triage("no fever but crushing chest pain").red_flags == ["chest_pain"]
    assert triage("no cough. i feel like my throat is closing").red_flags == ["anaphylaxis"]
    assert triage("the bleeding hasnt stopped and it is heavy").emergency


def test_negation_words_inside_a_red_flag_phrase_still_fire() -> None:
    for text in ("he is not breathing", "i cant breathe", "she is not responding",
                 "i dont want to live anymore", "baby has no tears and is floppy"):
        assert triage(text).emergency, text


def test_plain_chest_pain_and_mild_symptoms_are_not_emergencies() -> None:
    for text in ("chest pain when i cough", "mild headache", "runny nose", "my neck is stiff"):
        assert triage(text).emergency is False, text


def test_emergency_advice_names_the_numbers() -> None:
    result = triage("my father collapsed and is not breathing")
    assert "112" in result.advice and "108" in result.advice
    assert "14416" not in result.advice
    assert result.escalation_reason.startswith("Red flags:")
    assert "unconsciousness" in result.escalation_reason


def test_suicidal_advice_adds_tele_manas() -> None:
    result = triage("i want to end my life")
    assert result.red_flags == ["suicidal"]
    assert "Tele-MANAS" in result.advice and "14416" in result.advice and "112" in result.advice


def test_first_aid_for_each_flag_is_added_once() -> None:
    result = triage("a snake bit me and my leg is swelling, also a scorpion sting")
    assert result.advice.count("do not cut, suck or tie") == 1


def test_non_emergency_result_is_empty() -> None:
    assert triage("i have a cold") == TriageResult(emergency=False)
    assert triage("").emergency is False


def test_normalise_handles_speech_to_text_output() -> None:
    assert normalise("I CAN\u2019T  breathe!!") == "i cant breathe!!"
    assert normalise("took 2.5 tablets. then slept") == "took 2.5 tablets. then slept"
    assert triage("i took 30.5 tablets").red_flags == ["poisoning"]
    assert "chest_pain" in present_concepts(normalise("Chest-pain, going to my ARM"))


def test_lexicon_is_consistent() -> None:
    ids = [flag.id for flag in RED_FLAGS]
    assert len(ids) == len(set(ids)) >= 15
    for flag in RED_FLAGS:
        assert flag.first_aid and flag.label
        assert all(c in CONCEPTS for rule in flag.rules for c in rule), flag.id
