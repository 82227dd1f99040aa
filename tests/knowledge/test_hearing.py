"""The clinical vocabulary, Whisper's listening prompt, and corrections of misheard terms."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dhanvantri.knowledge.hearing import (
    Hearing,
    clinical_vocabulary,
    correct,
    listening_prompt,
    prepare,
)
from dhanvantri.knowledge.hearing_sounds import similarity, sound_key
from dhanvantri.knowledge.intake import QUESTIONS


@dataclass(frozen=True)
class Word:
    text: str
    probability: float


def heard(*pairs: tuple[str, float]) -> list[Word]:
    return [Word(text, p) for text, p in pairs]


def sure(text: str, probability: float = 0.95) -> list[Word]:
    return [Word(w, probability) for w in text.split()]


# --- vocabulary --------------------------------------------------------------------------


def test_vocabulary_holds_each_kind_of_clinical_word() -> None:
    by_text = {t.text.lower(): t.kind for t in clinical_vocabulary()}
    assert by_text["fever"] == "symptom"
    assert by_text["loose motions"] == "symptom"
    assert by_text["metformin"] == "medicine"
    assert by_text["crocin"] == "brand"
    assert by_text["dolo"] == "brand"  # "Dolo 650" is asked for as "Dolo"
    assert by_text["diabetes"] == "condition"
    assert by_text["latex"] == "allergen"
    aspirin = next(t for t in clinical_vocabulary() if t.text == "aspirin")
    assert aspirin.kinds == {"allergen", "medicine"}
    assert by_text["not allergic"] == "phrase"
    assert clinical_vocabulary() is clinical_vocabulary()


# --- listening prompt --------------------------------------------------------------------


@pytest.mark.parametrize("topic", [*QUESTIONS, "probe:fever_chills:chills", "unknown"])
def test_prompt_starts_with_the_question_and_stays_short(topic: str) -> None:
    prompt = listening_prompt(topic)
    assert prompt.startswith(QUESTIONS.get(topic, ""))
    assert len(prompt.split()) <= 40
    assert prompt == listening_prompt(topic)


def test_prompt_fits_whispers_token_budget() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    from dhanvantri.models import whisper_dir

    path = whisper_dir() / "tokenizer.json"
    if not path.is_file():
        pytest.skip("Whisper base is not installed (dhanvantri setup)")
    tokenizer = tokenizers.Tokenizer.from_file(str(path))
    for topic in QUESTIONS:
        assert len(tokenizer.encode(" " + listening_prompt(topic)).ids) <= 56, topic


def test_prompt_expects_the_answer_to_that_question() -> None:
    allergies = listening_prompt("allergies").lower()
    assert "penicillin" in allergies and "not allergic" in allergies
    assert "metformin" in listening_prompt("medications").lower()
    assert "fever" in listening_prompt("complaint").lower()
    asked = "Do you get chills or shivering with the fever?"
    # Questions that name their answer get nothing added: the words were heard as a yes.
    assert listening_prompt("probe:malaria_chills:chills", asked) == asked
    for topic in ("sex", "severity", "duration", "age", "weight", "conditions"):
        assert listening_prompt(topic) == QUESTIONS[topic]  # examples there were echoed
    asked = "Is anyone at home allergic to a medicine?"
    assert listening_prompt("allergies", asked).startswith(asked)


# --- sounds ------------------------------------------------------------------------------


def test_misheard_words_sound_closer_to_the_term_than_to_other_terms() -> None:
    def like(a: str, b: str) -> float:
        return similarity(sound_key(a.split()), sound_key(b.split()))

    assert like("met from in", "metformin") > like("met from in", "metronidazole")
    assert like("femur", "fever") > like("femur", "nausea")
    assert like("dry cuff", "dry cough") > 0.8
    assert like("fever", "fever") == 1.0


# --- corrections -------------------------------------------------------------------------


def test_an_unsure_misheard_word_becomes_the_term_it_sounds_like() -> None:
    hearing = correct(heard(("I", 0.9), ("have", 0.95), ("a", 0.9), ("femur.", 0.2)))
    assert hearing.text == "I have a fever."
    assert [(c.heard, c.term) for c in hearing.corrections] == [("femur.", "fever")]
    assert hearing.unsure == ("fever",)


def test_a_confident_word_is_never_changed() -> None:
    words = heard(("I", 0.9), ("broke", 0.9), ("my", 0.9), ("femur.", 0.92))
    assert correct(words) == Hearing("I broke my femur.")


def test_words_are_joined_to_make_one_term() -> None:
    words = heard(("I", 0.9), ("take", 0.9), ("met", 0.3), ("from", 0.4), ("in", 0.35),
                  ("daily.", 0.9))
    hearing = correct(words, "medications")
    assert hearing.text == "I take metformin daily."
    assert hearing.corrections[0].heard == "met from in"


def test_a_word_is_corrected_in_its_phrase() -> None:
    words = heard(("A", 0.9), ("dry", 0.9), ("cuff", 0.3), ("since", 0.9), ("Monday.", 0.9))
    assert correct(words, "complaint").text == "A dry cough since Monday."


def test_the_question_decides_which_terms_are_near_enough() -> None:
    words = heard(("Allergic", 0.9), ("to", 0.9), ("sofa.", 0.3))
    assert correct(words, "allergies").text == "Allergic to sulpha."
    assert correct(words, "complaint").text == "Allergic to sofa."


def test_a_misspelt_term_is_spelt_right() -> None:
    assert correct(heard(("Panicelin.", 0.1),), "allergies").text == "Penicillin."


def test_a_brand_needs_a_closer_sound_than_a_generic() -> None:
    # "can die" sounds like the brand "Candid" (0.77): too far for a brand name.
    words = heard(("I", 0.9), ("can", 0.3), ("die", 0.3), ("daily.", 0.9))
    assert correct(words, "medications").corrections == ()


def test_words_the_intake_reads_by_are_not_read_back() -> None:
    words = heard(("I", 0.9), ("am", 0.9), ("logic", 0.3), ("to", 0.9), ("dust.", 0.9))
    hearing = correct(words, "allergies")
    assert hearing.text == "I am allergic to dust."
    assert "allergic" not in hearing.unsure


def test_male_or_female_is_an_answer_when_that_was_the_question() -> None:
    # Unsure "male" sounds like the symptom "pale"; asked "male or female?", it is the answer.
    assert correct(heard(("Male.", 0.2),), "complaint").text == "Pale."
    assert correct(heard(("Male.", 0.2),), "sex").text == "Male."
    assert correct(heard(("Female.", 0.2),), "sex").text == "Female."


def test_a_negation_is_never_invented() -> None:
    # "I'm allergic" must never become "not allergic".
    words = heard(("I'm", 0.3), ("allergic", 0.5), ("to", 0.9), ("penicillin.", 0.9))
    assert correct(words, "allergies").text == "I'm allergic to penicillin."
    words = heard(("Allergic", 0.3), ("to", 0.9), ("dust.", 0.9))
    assert "not" not in correct(words, "allergies").text.lower()


def test_an_unsure_near_miss_of_not_allergic_is_restored() -> None:
    words = heard(("I", 0.9), ("am", 0.9), ("hot", 0.2), ("allergic.", 0.6))
    assert correct(words, "allergies").text == "I am not allergic."
    # Whisper sure of "hot": left as heard.
    words = heard(("I", 0.9), ("am", 0.9), ("hot", 0.8), ("allergic.", 0.6))
    assert correct(words, "allergies").text == "I am hot allergic."


def test_a_negation_heard_apart_is_kept() -> None:
    words = heard(("No,", 0.4), ("sir.", 0.4))
    assert correct(words, "probe:x:nausea").text == "No, sir."


def test_clinical_terms_are_not_replaced_by_other_terms() -> None:
    words = heard(("I", 0.9), ("have", 0.9), ("a", 0.9), ("cough.", 0.1))
    hearing = correct(words)
    assert hearing.text == "I have a cough."
    assert hearing.unsure == ("cough",)  # very unsure, so read back
    words = heard(("I", 0.9), ("have", 0.9), ("a", 0.4), ("loose", 0.3), ("motions.", 0.3))
    assert correct(words, "complaint").text == "I have a loose motions."


def test_numbers_are_never_read_as_terms() -> None:
    words = heard(("Since", 0.9), ("3", 0.3), ("days.", 0.4))
    assert correct(words, "complaint").corrections == ()


def test_a_kept_word_and_a_changed_word_must_each_sound_alike() -> None:
    # "blood in nose" is two words of "blood in motions", but "nose" is not "motions".
    words = heard(("Blood", 0.4), ("in", 0.4), ("nose.", 0.3))
    assert "motions" not in correct(words, "complaint").text


def test_a_sure_clean_turn_is_left_alone() -> None:
    words = sure("I have had a fever and a dry cough for three days.")
    hearing = correct(words, "complaint")
    assert hearing.text == "I have had a fever and a dry cough for three days."
    assert hearing.corrections == () and hearing.unsure == ()


def test_unsure_lists_each_corrected_term_once() -> None:
    words = heard(("Femur", 0.2), ("and", 0.9), ("femur.", 0.2))
    assert correct(words, "complaint").unsure == ("fever",)


def test_repr_does_not_print_what_the_patient_said() -> None:
    hearing = correct(heard(("femur", 0.2),), "complaint")
    assert "fever" not in repr(hearing) and "femur" not in repr(hearing)


def test_no_words_is_an_empty_hearing() -> None:
    prepare()
    assert correct([]) == Hearing("")
