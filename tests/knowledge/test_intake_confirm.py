"""Reading back what speech-to-text was unsure of: yes keeps it, no undoes the turn."""

from __future__ import annotations

from dhanvantri.knowledge.intake import IntakeState, confirm_question

ANSWERS = {"complaint": "i have fever since 3 days, it is mild", "age": "i am 30",
           "sex": "male"}


def asked_allergies(kb) -> IntakeState:
    """A state whose last question was the allergies one."""
    state = IntakeState()
    while (step := state.next_step(kb)).topic != "allergies":
        state.update(ANSWERS.get(step.topic, "no"))
    return state


def test_an_unsure_term_is_read_back_before_the_next_question(fake_kb) -> None:
    state = asked_allergies(fake_kb)
    state.update("i am allergic to penicillin", unsure=("penicillin",))
    step = state.next_step(fake_kb)
    assert (step.topic, step.question) == ("confirm", "Penicillin — did I get that right?")
    assert state.allergies == ["penicillin"]  # kept meanwhile: the physician sees it either way


def test_yes_keeps_the_term_and_the_intake_goes_on(fake_kb) -> None:
    state = asked_allergies(fake_kb)
    state.update("i am allergic to penicillin", unsure=("penicillin",))
    state.next_step(fake_kb)
    state.update("yes")
    assert state.allergies == ["penicillin"]
    assert state.next_step(fake_kb).topic not in ("confirm", "allergies")
    # Once confirmed, the same term heard unsure again is not asked about twice.
    state.update("penicillin gives me a rash", unsure=("penicillin",))
    assert state.next_step(fake_kb).topic != "confirm"


def test_no_undoes_the_misheard_turn_and_asks_its_question_again(fake_kb) -> None:
    state = asked_allergies(fake_kb)
    turns = state.turns
    state.update("i am allergic to penicillin", unsure=("penicillin",))
    state.next_step(fake_kb)
    state.update("no")
    assert state.allergies == [] and not state.no_allergies
    step = state.next_step(fake_kb)
    assert step.topic == "allergies"
    assert step.question.startswith("Sorry, I misheard. ")
    assert state.turns == turns + 2  # both turns still count
    # Said once: the next time the question comes plain.
    assert not state.next_step(fake_kb).question.startswith("Sorry")


def test_a_fresh_answer_replaces_the_misheard_one(fake_kb) -> None:
    state = asked_allergies(fake_kb)
    state.update("i am allergic to penicillin", unsure=("penicillin",))
    state.next_step(fake_kb)
    state.update("i said i am allergic to sulfa")
    assert state.allergies == ["sulfa"]


def test_a_turn_without_unsure_terms_asks_nothing_extra(fake_kb) -> None:
    state = asked_allergies(fake_kb)
    state.update("i am allergic to penicillin")
    assert state.next_step(fake_kb).topic != "confirm"


def test_the_question_lists_every_term() -> None:
    assert confirm_question(["fever"]) == "Fever — did I get that right?"
    assert confirm_question(["metformin", "amlodipine"]) == (
        "Metformin and amlodipine — did I get that right?")
    assert confirm_question(["a", "b", "c"]) == "A, b and c — did I get that right?"
