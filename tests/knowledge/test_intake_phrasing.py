"""Model phrasing of intake questions is spoken only when it says nothing unsafe."""

from __future__ import annotations

import pytest

from dhanvantri.knowledge.intake import QUESTIONS, NextStep
from dhanvantri.knowledge.phrasing import checked_phrasing, phrasing_messages, problems

STEP = NextStep("ask", "duration", QUESTIONS["duration"])


@pytest.mark.parametrize("text", [
    "How many days have you been feeling this way?",
    "Could you tell me since when you've had the fever?",
])
def test_good_phrasing_is_used(text: str) -> None:
    assert problems(text, STEP) == []
    assert checked_phrasing(STEP, text) == text


@pytest.mark.parametrize("text", [
    "It sounds like dengue. How many days have you had it?",
    "Please take paracetamol 650 mg. Since when do you have fever?",
    "Take Dolo twice a day. When did it start?",
    "You probably have an infection, since when is it there?",
    "How long have you had the typhoid?",
    "Since when have you had this",  # not a question
    "",
    "word " * 60 + "?",
])
def test_unsafe_or_broken_phrasing_falls_back(text: str) -> None:
    assert problems(text, STEP)
    assert checked_phrasing(STEP, text) == STEP.question


def test_symptom_words_that_are_also_condition_names_are_allowed() -> None:
    step = NextStep("ask", "probe:x", "Any loose motions or constipation?")
    text = "Do you have any constipation?"
    assert checked_phrasing(step, text) == text


def test_no_model_means_the_default_question() -> None:
    assert checked_phrasing(STEP, None) == STEP.question


def test_prompt_is_short_and_carries_only_the_question() -> None:
    messages = phrasing_messages(STEP)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert STEP.question in messages[1]["content"]
    assert sum(len(m["content"].split()) for m in messages) < 80


def test_every_default_question_passes_its_own_check() -> None:
    from dhanvantri.knowledge.conditions import load_conditions

    texts = list(QUESTIONS.values())
    texts += [q.text for c in load_conditions() for q in c.key_questions]
    for text in texts:
        assert problems(text, NextStep("ask", "t", text)) == [], text
