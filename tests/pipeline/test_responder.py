"""The responder's two styles and the acknowledgement check (scripted model, exact text)."""

from __future__ import annotations

from dhanvantri.pipeline.frames import (
    GuidanceFrame,
    LLMTextFrame,
    RedactedTranscriptionFrame,
    ReplyEndFrame,
    TurnEndFrame,
)
from dhanvantri.pipeline.responder import FALLBACK_ACK, Responder, fit_acknowledgement
from dhanvantri.pipeline.task import PipelineTask
from tests.support.llm import ScriptedLLM


async def run_turn(responder: Responder, text: str, question: str) -> str:
    out: list = []
    task = PipelineTask([responder], on_output=out.append)
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text=text, turn=1))
    await task.queue_frame(GuidanceFrame(instruction=question, topic="duration", turn=1))
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


async def test_acknowledge_style_speaks_the_clinical_question_word_for_word() -> None:
    llm = ScriptedLLM("I am sorry", " to hear that.", " Take rest and", " drink fluids.")
    said = await run_turn(
        Responder(llm, style="acknowledge"), "i have a fever", "Since when have you had this?"
    )
    assert said == "I am sorry to hear that. Since when have you had this?"
    request = llm.requests[0]
    assert request[0].role == "system" and request[-1].content == "i have a fever"
    # The fixed few-shot start is identical every turn, so the server's prompt cache hits.
    second = ScriptedLLM("Oh no.")
    await run_turn(Responder(second, style="acknowledge"), "another", "Q?")
    assert second.requests[0][:-1] == request[:-1]


async def test_acknowledge_style_falls_back_when_the_model_rambles() -> None:
    llm = ScriptedLLM("Severe: 3 days\nMild: 2 days")
    said = await run_turn(Responder(llm, style="acknowledge"), "i have a fever", "How bad is it?")
    assert said == f"{FALLBACK_ACK} How bad is it?"


async def test_converse_style_streams_and_carries_the_question_and_history() -> None:
    llm = ScriptedLLM("Sorry ", "to hear. ", "Since when?")
    responder = Responder(llm, style="converse")
    said = await run_turn(responder, "i have a fever", "Since when have you had this?")
    assert said == "Sorry to hear. Since when?"
    assert "Since when have you had this?" in llm.requests[0][-1].content
    assert [m.role for m in responder.history] == ["user", "assistant"]
