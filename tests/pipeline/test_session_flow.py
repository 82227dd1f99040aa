"""A whole consultation session from text turns onward: PHI, clinical logic, the reply guard.

The patient's words are injected as final transcripts (speech-to-text has its own tests), and
everything after that is real: the Presidio vault, the knowledge base, triage, intake, Piper.
The language model is scripted where the test needs to know exactly what it says, and real in
the test that checks what reaches it.
"""

from __future__ import annotations

import pytest

from dhanvantri.pipeline.frames import (
    EscalationFrame,
    EventFrame,
    Frame,
    OutputAudioFrame,
    TranscriptionFrame,
    TurnEndFrame,
)
from dhanvantri.pipeline.services import ChatMessage
from tests.support.llm import ScriptedLLM
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.models

PATIENT = (
    "hello this is rajesh kumar my phone number is 98765 43210 and my aadhaar is "
    "2345 6789 0124 i have had fever and body ache for three days"
)
PHI_VALUES = ("rajesh", "kumar", "98765", "43210", "9876543210", "2345", "0124")


class RecordingSearch:
    """The real knowledge base, with every query recorded."""

    def __init__(self, knowledge) -> None:
        self.knowledge = knowledge
        self.queries: list[str] = []

    def search(self, query: str, k: int = 3):
        self.queries.append(query)
        return self.knowledge.search(query, k)


@pytest.fixture(scope="module")
def real_parts(tmp_path_factory):
    from dhanvantri.knowledge import KnowledgeBase
    from dhanvantri.pipeline.stt_whisper import WhisperSTT
    from dhanvantri.pipeline.tts_piper import PiperTTS
    from dhanvantri.privacy import PhiDetector
    from dhanvantri.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), output_sample_rate=16000)
    return dict(
        settings=settings,
        stt=WhisperSTT(),
        tts=PiperTTS(),
        detector=PhiDetector(),
        knowledge=KnowledgeBase.open(settings),
    )


def make_session(real_parts, llm, *, capable_llm: bool = False):
    """A session on the real parts; ``capable_llm`` makes it treat the LLM as a configured
    endpoint (converse style) rather than the embedded model (acknowledge style)."""
    from dhanvantri.pipeline.voice import VoiceModels, VoiceSession

    search = RecordingSearch(real_parts["knowledge"])
    settings = real_parts["settings"]
    if capable_llm:
        settings = settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1"})
    models = VoiceModels(
        settings=settings,
        stt=real_parts["stt"],
        tts=real_parts["tts"],
        llm=llm,
        detector=real_parts["detector"],
        knowledge=search,
        vault_key=b"k" * 32,
    )
    out: list[Frame] = []
    return VoiceSession(models, out.append), out, search


async def say(session, text: str, turn: int) -> None:
    await session.task.queue_frame(TranscriptionFrame(text=text, final=True, turn=turn))
    await session.task.queue_frame(TurnEndFrame(turn=turn))


async def settle(out: list[Frame], turn: int, seconds: float = 60.0) -> None:
    """Wait until the reply to ``turn`` has been spoken: the turn's end has left the pipeline,
    behind everything said in it (each stage passes its frames on in order)."""

    def ended() -> bool:
        return any(isinstance(f, TurnEndFrame) and f.turn == turn for f in out)

    await wait_until_async(ended, seconds, what=f"turn {turn} to end with its reply spoken")


def events(out: list[Frame], kind: str) -> list[dict]:
    return [f.event for f in out if isinstance(f, EventFrame) and f.event["type"] == kind]


async def test_no_phi_reaches_the_llm_or_retrieval_and_the_patient_hears_their_name(real_parts):
    llm = ScriptedLLM.word_by_word("Thank you <PERSON_1>, I am sorry you feel unwell.")
    # A capable endpoint: the embedded style speaks templates and asks no model at all.
    session, out, search = make_session(real_parts, llm, capable_llm=True)
    await session.start()
    await say(session, PATIENT, 1)
    await settle(out, 1)
    await session.cancel()
    sent_to_llm = " ".join(m.content for request in llm.requests for m in request).lower()
    assert llm.requests, "the language model was never asked"
    assert search.queries, "retrieval was never asked"
    for value in PHI_VALUES:
        assert value not in sent_to_llm, f"{value!r} reached the LLM"
        assert all(value not in q.lower() for q in search.queries), f"{value!r} reached retrieval"
    assert "<person_1>" in sent_to_llm and "fever" in sent_to_llm  # clinical words kept
    spoken = [e["text"] for e in events(out, "transcript") if e["role"] == "assistant"]
    assert any("Rajesh Kumar" in text for text in spoken), spoken
    assert not any("<PERSON" in text for text in spoken)
    patient = [
        e["text"] for e in events(out, "transcript") if e["role"] == "patient" and e["final"]
    ]
    assert patient == [PATIENT]  # the patient sees their own words
    assert any(isinstance(f, OutputAudioFrame) for f in out)


async def test_emergency_gets_instruction_and_escalation_in_the_same_turn_without_llm(real_parts):
    llm = ScriptedLLM.word_by_word("This must never be said.")
    session, out, _ = make_session(real_parts, llm)
    await session.start()
    await say(session, "i have crushing chest pain spreading to my left arm and i am sweating", 1)
    await settle(out, 1)
    await session.cancel()
    assert llm.requests == []
    escalations = [f for f in out if isinstance(f, EscalationFrame)]
    assert escalations and escalations[0].emergency and escalations[0].turn == 1
    spoken = " ".join(e["text"] for e in events(out, "transcript") if e["role"] == "assistant")
    assert "112" in spoken or "108" in spoken
    assert "never be said" not in spoken
    assert any(isinstance(f, OutputAudioFrame) and f.turn == 1 for f in out)


async def test_reply_guard_blocks_a_drug_and_dose_from_the_model(real_parts):
    llm = ScriptedLLM.word_by_word("You should take paracetamol 650 mg twice a day. Rest well.")
    session, out, _ = make_session(real_parts, llm, capable_llm=True)
    await session.start()
    await say(session, "i have a mild fever since yesterday", 1)
    await settle(out, 1)
    await session.cancel()
    spoken = " ".join(e["text"] for e in events(out, "transcript") if e["role"] == "assistant")
    assert "paracetamol" not in spoken.lower() and "650" not in spoken
    assert "other symptoms" in spoken.lower()  # the planned question still comes


async def test_real_llm_request_holds_no_phi(real_parts):
    """The same check against the embedded SmolLM2 server, through the real OpenAI client."""
    from dhanvantri.models import smollm2_path
    from dhanvantri.pipeline.llm_embedded import EmbeddedLlamaServer
    from dhanvantri.pipeline.llm_openai import OpenAIChat

    server = EmbeddedLlamaServer(smollm2_path())
    await server.start()
    try:
        real = OpenAIChat(base_url=server.base_url, model="smollm2-135m-instruct", max_tokens=30)
        recorded: list[list[ChatMessage]] = []

        class Recording:
            async def stream(self, messages):
                recorded.append(list(messages))
                async for piece in real.stream(messages):
                    yield piece

        session, out, _ = make_session(real_parts, Recording(), capable_llm=True)
        await session.start()
        await say(session, PATIENT, 1)
        await settle(out, 1, 120.0)
        await session.cancel()
        await real.close()
    finally:
        await server.stop()
    text = " ".join(m.content for request in recorded for m in request).lower()
    assert recorded and "fever" in text
    for value in PHI_VALUES:
        assert value not in text
    assert any(isinstance(f, OutputAudioFrame) for f in out)  # the model's reply was spoken
