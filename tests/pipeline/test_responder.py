"""The responder's two styles: the clinical logic's acknowledgement and question spoken as they
are, a model's words only when they pass the check (scripted model, exact text)."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace

import pytest

from dhanvantri.pipeline.frames import (
    GuidanceFrame,
    KnowledgeFrame,
    LLMTextFrame,
    RedactedTranscriptionFrame,
    ReplyEndFrame,
    SpeakFrame,
    TurnEndFrame,
)
from dhanvantri.pipeline.phrase_chunker import PhraseChunker
from dhanvantri.pipeline.responder import (
    ASKED_SOMETHING,
    FALLBACK_ACK,
    HEARD_NOTHING,
    Responder,
    fit_acknowledgement,
)
from dhanvantri.pipeline.task import PipelineTask
from tests.support.llm import ScriptedLLM
from tests.support.waiting import wait_until_async


async def run_turn(
    responder: Responder,
    text: str,
    question: str,
    ack: str = "",
    passages: tuple = (),
    topic: str = "duration",
) -> str:
    out: list = []
    task = PipelineTask([responder], on_output=out.append)
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text=text, turn=1))
    if passages:
        await task.queue_frame(KnowledgeFrame(passages=passages, turn=1))
    await task.queue_frame(
        GuidanceFrame(instruction=question, topic=topic, acknowledgement=ack, turn=1)
    )
    await task.queue_frame(TurnEndFrame(turn=1))
    await task.stop()
    assert any(isinstance(f, ReplyEndFrame) for f in out)
    return "".join(f.text for f in out if isinstance(f, LLMTextFrame))


def test_acknowledgement_keeps_one_plain_sentence() -> None:
    assert (
        fit_acknowledgement("I am sorry to hear that. You may have flu.")
        == "I am sorry to hear that."
    )
    assert (
        fit_acknowledgement("Thank you <PERSON_1>, that helps.")
        == "Thank you <PERSON_1>, that helps."
    )


def test_acknowledgement_refuses_what_the_small_model_gets_wrong() -> None:
    for bad in (
        "Severe: 3 days of fever and cough.",
        "(Mild) 2 days ago, I had a headache.",
        "I'm sorry, but I am not a doctor.",
        "How long have you had it?",
        "It's normal to feel that way.",
        "That's very good, that is great.",
        "",
        "Ok",
    ):
        assert fit_acknowledgement(bad) == FALLBACK_ACK, bad


async def test_acknowledge_style_speaks_the_acknowledgement_and_question_with_no_model() -> None:
    llm = ScriptedLLM("This must never be said.")
    said = await run_turn(
        Responder(llm, style="acknowledge"),
        "i have had a fever for three days",
        "How bad is it?",
        ack="A fever for three days.",
    )
    assert said == "A fever for three days. How bad is it?"
    assert llm.requests == []
    # Nothing understood: a neutral word, or a question passed on; still without the model.
    said = await run_turn(Responder(llm, style="acknowledge"), "hmm", "How bad is it?")
    assert said == f"{HEARD_NOTHING} How bad is it?"
    said = await run_turn(Responder(llm, style="acknowledge"), "is it dengue", "How bad is it?")
    assert said == f"{ASKED_SOMETHING} How bad is it?"
    said = await run_turn(Responder(llm, style="acknowledge"), "hello doctor", "What is it?")
    assert said == "Hello. What is it?"
    assert llm.requests == []


async def test_paraphrase_speaks_a_fit_model_sentence_with_the_question_word_for_word() -> None:
    llm = ScriptedLLM("I am sorry", " to hear about", " your fever.", " Take rest and", " drink.")
    said = await run_turn(
        Responder(llm, style="acknowledge", paraphrase=True),
        "i have a fever",
        "Since when have you had this?",
        ack="A fever — noted.",
    )
    assert said == "I am sorry to hear about your fever. Since when have you had this?"
    request = llm.requests[0]
    assert request[0].role == "system" and request[-1].content == "i have a fever"
    # The fixed few-shot start is identical every turn, so the server's prompt cache hits.
    second = ScriptedLLM("Oh no.")
    await run_turn(Responder(second, style="acknowledge", paraphrase=True), "another", "Q?")
    assert second.requests[0][:-1] == request[:-1]


async def test_paraphrase_falls_back_to_the_template_when_the_model_gets_it_wrong() -> None:
    for reply in (
        "It's not uncommon for people to have body ache after a long day.",
        "I'm sorry, that is very kind.",
        "Severe: 3 days\nMild: 2 days",
        "Don't worry, you will be fine.",
    ):
        said = await run_turn(
            Responder(ScriptedLLM(reply), style="acknowledge", paraphrase=True),
            "i have a fever and body ache",
            "How bad is it?",
            ack="Fever and body ache.",
        )
        assert said == "Fever and body ache. How bad is it?", reply


async def test_without_guidance_the_model_sentence_is_checked_as_before() -> None:
    out: list = []
    task = PipelineTask(
        [Responder(ScriptedLLM("Severe: 3 days\nMild: 2 days"), style="acknowledge")],
        on_output=out.append,
    )
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text="i have a fever", turn=1))
    await task.queue_frame(TurnEndFrame(turn=1))
    await task.stop()
    assert "".join(f.text for f in out if isinstance(f, LLMTextFrame)) == FALLBACK_ACK


async def test_converse_style_streams_and_carries_the_question_and_history() -> None:
    llm = ScriptedLLM("Sorry ", "to hear. ", "Since when?")
    responder = Responder(llm, style="converse")
    said = await run_turn(responder, "i have a fever", "Since when have you had this?")
    assert said == "I see. Sorry to hear. Since when?"  # the filler opens at once
    assert "Since when have you had this?" in llm.requests[0][-1].content
    assert [m.role for m in responder.history] == ["user", "assistant"]


async def test_converse_prompt_holds_the_passages_what_was_understood_and_the_question() -> None:
    passage = SimpleNamespace(
        title="Dengue", text="Fever with pain behind the eyes and joint pain.", source="NCVBDC"
    )
    llm = ScriptedLLM("And how bad ", "is it?")
    responder = Responder(llm, style="converse", use_passages=True)
    said = await run_turn(
        responder, "fever for three days", "How bad is it?", ack="A fever for three days.",
        passages=(passage,),
    )
    assert said == "A fever for three days. And how bad is it?"
    system, *_, user = llm.requests[0]
    assert "Dengue (NCVBDC): Fever with pain behind the eyes" in system.content
    assert "A fever for three days." in user.content and "How bad is it?" in user.content
    # The model is told what was already said, and continues from there.
    assert 'You have just said: "A fever for three days."' in user.content


async def test_converse_prompt_carries_what_earlier_turns_established() -> None:
    llm = ScriptedLLM("Noted.")
    task = PipelineTask([Responder(llm, style="converse")])
    await task.start()
    for turn, (text, ack) in enumerate(
        [("fever for three days", "A fever, 3 days."), ("moderate", "Moderate, noted.")], 1
    ):
        await task.queue_frame(RedactedTranscriptionFrame(text=text, turn=turn))
        await task.queue_frame(GuidanceFrame(instruction="Q?", acknowledgement=ack, turn=turn))
    await task.stop()
    first, second = (request[-1].content for request in llm.requests)
    assert "Known from earlier turns" not in first
    assert "(Known from earlier turns: A fever, 3 days.)" in second
    assert "Moderate, noted." in second


class HeldLLM(ScriptedLLM):
    """Streams nothing until ``release`` is set (a hosted model's first-token time)."""

    def __init__(self, *pieces: str) -> None:
        super().__init__(*pieces)
        self.release = asyncio.Event()

    async def stream(self, messages):  # type: ignore[no-untyped-def]
        self.requests.append(list(messages))
        await self.release.wait()
        for piece in self.pieces:
            yield piece


async def test_converse_says_what_was_understood_before_the_model_answers() -> None:
    llm = HeldLLM("How bad is the fever?")
    out: list = []
    task = PipelineTask([Responder(llm, style="converse")], on_output=out.append)
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text="fever for three days", turn=1))
    await task.queue_frame(GuidanceFrame(instruction="How bad is it?", topic="severity",
                                         acknowledgement="A fever for three days.", turn=1))
    said = lambda: "".join(f.text for f in out if isinstance(f, LLMTextFrame))  # noqa: E731
    await wait_until_async(lambda: said() != "", 5, what="the opening")
    assert said() == "A fever for three days." and llm.requests  # the model is still writing
    llm.release.set()
    await task.stop()
    assert said() == "A fever for three days. How bad is the fever?"


async def test_a_short_opening_is_spoken_before_the_model_answers() -> None:
    # "I see." is shorter than a first phrase may be; waiting for the model's words to make it
    # one cost a hosted model's first-token time before the patient heard anything.
    llm = HeldLLM("How bad is the fever?")
    out: list = []
    task = PipelineTask([Responder(llm, style="converse"), PhraseChunker()], on_output=out.append)
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text="mm", turn=1))
    await task.queue_frame(GuidanceFrame(instruction="How bad is it?", topic="severity", turn=1))
    spoken = lambda: [f.text for f in out if isinstance(f, SpeakFrame)]  # noqa: E731
    await wait_until_async(lambda: spoken() != [], 5, what="the opening's phrase")
    assert spoken() == [HEARD_NOTHING] and llm.requests  # the model is still writing
    llm.release.set()
    await task.stop()
    assert spoken() == [HEARD_NOTHING, "How bad is the fever?"]


async def test_without_a_model_the_opening_and_the_question_are_phrases_of_their_own() -> None:
    # So each can come from the phrasebook: "I see. How bad is it?" as one phrase was in no book.
    out: list = []
    task = PipelineTask([Responder(ScriptedLLM(), style="acknowledge"), PhraseChunker()],
                        on_output=out.append)
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text="hmm", turn=1))
    await task.queue_frame(GuidanceFrame(instruction="How bad is it?", topic="severity", turn=1))
    await task.queue_frame(TurnEndFrame(turn=1))
    await task.stop()
    assert [f.text for f in out if isinstance(f, SpeakFrame)] == [HEARD_NOTHING, "How bad is it?"]


async def test_converse_replaces_an_unfit_first_sentence_with_the_template() -> None:
    llm = ScriptedLLM("Don't worry, ", "it is just a viral fever. ", "Take rest. ", "How bad?")
    said = await run_turn(
        Responder(llm, style="converse"), "fever for three days", "How bad is it?",
        ack="A fever for three days.",
    )
    assert said == "A fever for three days. How bad is it?"


async def test_converse_drops_an_unfit_later_sentence_and_keeps_the_question() -> None:
    llm = ScriptedLLM(
        "I'm sorry to hear that. ", "You should take paracetamol 650 mg. ", "Rest well. ",
        "Your fever is worrying. ", "(Reply briefly.) ", "Is it as bad as it was not too serious?",
        " Okay, no needles in the morning?",
    )
    said = await run_turn(Responder(llm, style="converse"), "my fever", "How bad is it?")
    assert said == "I see. I'm sorry to hear that. Your fever is worrying. How bad is it?"


async def test_converse_falls_back_to_the_template_when_the_model_says_nothing() -> None:
    said = await run_turn(
        Responder(ScriptedLLM(), style="converse"), "fever", "How bad is it?", ack="A fever."
    )
    assert said == "A fever. How bad is it?"


async def test_converse_says_the_closing_words_the_model_left_out() -> None:
    llm = ScriptedLLM("Thank you for confirming.")
    said = await run_turn(
        Responder(llm, style="converse"), "yes", "Thank you. A doctor will now review it.",
        topic="done",
    )
    assert said == "Thank you for confirming. Thank you. A doctor will now review it."


async def test_converse_reply_is_cut_at_a_length_for_speech() -> None:
    llm = ScriptedLLM.word_by_word("Fever is hard to bear. " * 20)
    said = await run_turn(
        Responder(llm, style="converse", max_words=12), "my fever is hard to bear", "Q?"
    )
    assert said == "I see. Fever is hard to bear. Fever is hard to bear. Q?"


async def test_the_guide_acknowledges_each_answer_and_a_read_back_term_once_confirmed() -> None:
    from dhanvantri.pipeline.clinical_guide import ClinicalGuide
    from tests.support.knowledge import SymptomOnlyKB

    llm, out = ScriptedLLM("This must never be said."), []
    task = PipelineTask(
        [ClinicalGuide(SymptomOnlyKB()), Responder(llm, style="acknowledge")],
        on_output=out.append,
    )
    await task.start()
    lines = [
        ("I have had a fever and body ache for three days", ()),
        ("I am allergic to penicillin", ("penicillin",)),
        ("yes", ()),
        ("I am allergic to sulfa", ("sulfa",)),
        ("no", ()),
    ]
    for turn, (text, unsure) in enumerate(lines, 1):
        await task.queue_frame(RedactedTranscriptionFrame(text=text, unsure=unsure, turn=turn))
        await task.queue_frame(TurnEndFrame(turn=turn))
    await task.stop()
    said = {
        turn: " ".join(f.text for f in out if isinstance(f, LLMTextFrame) and f.turn == turn)
        for turn in range(1, 6)
    }
    assert llm.requests == []
    assert "fever and body ache for three days" in said[1].lower()
    assert said[2] == "Penicillin — did I get that right?"  # the read-back alone
    assert "penicillin" in said[3] and "sulfa" not in said[3]
    assert said[4] == "Sulfa — did I get that right?"
    assert said[5].startswith("Sorry, I misheard.")  # nothing acknowledged: it was misheard


@pytest.mark.models
async def test_converse_on_the_embedded_model_speaks_only_checked_words() -> None:
    """The 135M model served as an endpoint is weak: what reaches the patient is either a
    sentence the check passed or the template, and the question is always asked."""
    from dhanvantri.knowledge.acknowledgement_check import problems
    from dhanvantri.models import smollm2_path
    from dhanvantri.pipeline.llm_embedded import EmbeddedLlamaServer
    from dhanvantri.pipeline.llm_openai import OpenAIChat

    server = EmbeddedLlamaServer(smollm2_path(), threads=1)  # two spin against other load
    await server.start()
    try:
        llm = OpenAIChat(base_url=server.base_url, model="smollm2-135m-instruct", max_tokens=40)
        heard, ack = "i have had a fever and body ache for three days", "A fever for three days."
        said = await run_turn(Responder(llm, style="converse"), heard, "How bad is it?", ack=ack)
        await llm.close()
    finally:
        await server.stop()
    assert "?" in said  # the question is always asked
    for sentence in re.split(r"(?<=[.!?])\s+", said.strip()):
        found = problems(sentence, {}, {}, f"{heard} {ack}")
        if "?" in sentence:  # a question may name what it asks about, nothing unsafe
            found = [f for f in found if not f.startswith(("a question", "invented", "non-seq"))]
        assert sentence == ack or found == [], (sentence, found)
