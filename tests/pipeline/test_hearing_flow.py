"""The clinical logic tells speech-to-text what it asked, and reads unsure terms back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dhanvantri.pipeline.clinical_guide import ClinicalGuide
from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    GuidanceFrame,
    ListeningFrame,
    RedactedTranscriptionFrame,
    TranscriptionFrame,
)
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.redactor import Redactor
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.transcriber import Transcriber
from dhanvantri.pipeline.turn_detector import TurnDetector
from tests.support.knowledge import SymptomOnlyKB
from tests.support.waiting import wait_until_async


class UpstreamLog(FrameProcessor):
    """Records the frames that travel upstream past it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Frame] = []

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is Direction.UPSTREAM:
            self.seen.append(frame)
        await self.push_frame(frame, direction)


class NameVault:
    def tokenize(self, text: str) -> SimpleNamespace:
        return SimpleNamespace(text=text.replace("Rajesh", "<PERSON_1>"), entities=())

    def reidentify(self, text: str) -> str:
        return text.replace("<PERSON_1>", "Rajesh")


async def said(task: PipelineTask, text: str, turn: int, unsure: tuple[str, ...] = ()) -> None:
    await task.queue_frame(TranscriptionFrame(text=text, final=True, turn=turn, unsure=unsure))


async def test_each_question_goes_upstream_and_an_unsure_term_is_read_back() -> None:
    upstream, out = UpstreamLog(), []
    task = PipelineTask(
        [upstream, Redactor(NameVault()), ClinicalGuide(SymptomOnlyKB())], on_output=out.append)
    await task.start()
    await said(task, "I have had a fever for three days", 1)
    await said(task, "I am allergic to penicillin", 2, unsure=("penicillin",))
    await task.stop()
    guidance = [f for f in out if isinstance(f, GuidanceFrame)]
    listening = [f for f in upstream.seen if isinstance(f, ListeningFrame)]
    assert [g.topic for g in guidance] == [f.topic for f in listening]
    assert [g.instruction for g in guidance] == [f.question for f in listening]
    assert guidance[-1].topic == "confirm"
    assert guidance[-1].instruction == "Penicillin — did I get that right?"
    assert guidance[0].topic != "confirm"


async def test_the_redactor_passes_on_only_terms_its_text_still_shows() -> None:
    out: list[Frame] = []
    task = PipelineTask([Redactor(NameVault())], on_output=out.append)
    await task.start()
    await said(task, "Rajesh is allergic to penicillin", 1, unsure=("penicillin", "Rajesh"))
    await task.stop()
    redacted = [f for f in out if isinstance(f, RedactedTranscriptionFrame)]
    assert redacted[0].unsure == ("penicillin",)
    assert "Rajesh" not in repr(redacted[0])


async def test_the_patients_line_is_final_before_the_reply_prepared_from_a_pause_is_let_out(
) -> None:
    # The commit overtakes every queue and releases the held reply; the patient's final line
    # went out only at turn end, after the reply's lines, and the screen showed it below them.
    from dhanvantri.pipeline.frames import EventFrame, TurnCommittedFrame, TurnEndFrame

    out: list[Frame] = []
    task = PipelineTask([Redactor(NameVault())], on_output=out.append)
    await task.start()
    await said(task, "I am allergic to ibuprofen", 2)
    await wait_until_async(lambda: any(isinstance(f, RedactedTranscriptionFrame) for f in out),
                           5, what="the redacted final")
    await task.queue_frame(TurnCommittedFrame(turn=2))
    await task.queue_frame(TurnEndFrame(turn=2))
    await task.stop()
    finals = [i for i, f in enumerate(out) if isinstance(f, EventFrame) and f.event["final"]]
    commit = next(i for i, f in enumerate(out) if isinstance(f, TurnCommittedFrame))
    assert len(finals) == 1 and finals[0] < commit
    assert out[finals[0]].event["text"] == "I am allergic to ibuprofen"


class PromptLog:
    """The real speech-to-text, noting the prompt each decode was given."""

    def __init__(self, stt) -> None:
        self.stt, self.prompts = stt, []

    def transcribe(self, audio, prefix_tokens=(), *, partial=False, prompt=""):
        self.prompts.append((partial, prompt))
        return self.stt.transcribe(audio, prefix_tokens, partial=partial, prompt=prompt)


@pytest.mark.models
async def test_the_question_asked_reaches_the_decoder_and_the_final_is_checked(speech) -> None:
    from dhanvantri.knowledge import hearing
    from dhanvantri.pipeline.stt_whisper import WhisperSTT
    from tests.pipeline.test_speech_stages import feed, vad, with_silence

    stt = PromptLog(WhisperSTT())
    transcriber = Transcriber(stt, partial_interval_ms=400, hearing=hearing)
    out: list[Frame] = []
    task = PipelineTask([TurnDetector(vad()), transcriber], on_output=out.append)
    await task.start()
    question = "Are you allergic to any medicine or food?"
    await transcriber.queue_frame(
        ListeningFrame(topic="allergies", question=question), Direction.UPSTREAM)
    await feed(task, with_silence(speech("I am allergic to penicillin.")))
    await task.stop()
    finals = [p for partial, p in stt.prompts if not partial]
    assert finals and all(p == hearing.listening_prompt("allergies", question) for p in finals)
    assert question in finals[0]
    text = [f for f in out if isinstance(f, TranscriptionFrame) and f.final][-1].text
    assert "penicillin" in text.lower()


def test_a_decode_that_copies_its_prompt_is_caught() -> None:
    from dhanvantri.pipeline.transcriber import echoes_prompt

    prompt = "Are you allergic to any medicine or food? Penicillin, sulfa, aspirin."
    assert echoes_prompt("I am allergic to any medicine or food.", prompt, 1.2)
    assert echoes_prompt("I am allergic to anything else at all.", prompt, 1.2)  # too many words
    assert not echoes_prompt("I am allergic to penicillin.", prompt, 1.6)
    assert not echoes_prompt("Not allergic.", prompt, 1.2)
    assert not echoes_prompt("I am allergic to anything else at all.", prompt, 3.0)
    symptoms = "What is troubling you today? Fever, cough, headache, loose motions."
    assert echoes_prompt("Doctor, cough, cough, cough, only come worried.", symptoms, 3.0)
    assert not echoes_prompt("No, no, no, I have no cough.", symptoms, 3.0)
