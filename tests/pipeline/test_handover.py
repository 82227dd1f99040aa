"""What a physician taking over changes in the pipeline: live voices mixed into the patient's
audio, the reply tapped for the listening physician, and the hand-over frames that pause the
assistant and give it the physician's notes (tokenised on their way)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from dhanvantri.pipeline.clinical_guide import ClinicalGuide
from dhanvantri.pipeline.frames import (
    GuidanceFrame,
    HandBackFrame,
    HandOverFrame,
    LLMTextFrame,
    OutputAudioFrame,
    PhysicianNoteFrame,
    RedactedTranscriptionFrame,
    TurnCommittedFrame,
    TurnEndFrame,
)
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.pipeline.playout import LiveFeed, mix
from dhanvantri.pipeline.redactor import Redactor
from dhanvantri.pipeline.responder import Responder
from dhanvantri.pipeline.task import PipelineTask
from tests.support.llm import ScriptedLLM
from tests.support.waiting import wait_until_async


def test_live_feed_drops_the_oldest_audio_beyond_its_limit() -> None:
    feed = LiveFeed(16000, max_ms=100)  # 1600 samples
    for n in range(10):
        feed.push(np.full(320, n, np.int16))
    assert feed.queued_samples <= 1600
    first = feed.pull(320)
    assert first is not None and first[0] >= 5  # the newest frames, not the first ones
    feed.clear()
    assert feed.pull(320) is None


def test_mix_sums_with_clipping_and_skips_silence() -> None:
    loud = np.full(4, 30000, np.int16)
    assert mix([None, None]) is None
    assert mix([None, loud]) is loud
    assert mix([loud, loud]).tolist() == [32767] * 4
    assert mix([loud, -loud]).tolist() == [0] * 4


def test_client_output_mixes_live_voices_and_taps_only_the_reply() -> None:
    output = ClientOutput(16000, send_event=lambda event: None)
    tapped: list[np.ndarray] = []
    output.add_tap(tapped.append)
    doctor = LiveFeed(16000)
    output.add_feed(doctor)
    doctor.push(np.full(320, 1000, np.int16))
    assert output.pull(320).tolist() == [1000] * 320  # the physician alone
    assert tapped == []
    output(TurnCommittedFrame(turn=1))
    output(OutputAudioFrame(audio=np.full(320, 200, np.int16), sample_rate=16000, turn=1))
    doctor.push(np.full(320, 1000, np.int16))
    assert output.pull(320).tolist() == [1200] * 320  # reply and physician mixed
    assert len(tapped) == 1 and tapped[0].tolist() == [200] * 320
    assert output.pull(320) is None
    assert output.next_audio(320).tolist() == [0] * 320
    output.remove_feed(doctor)
    output.remove_tap(tapped.append)
    doctor.push(np.full(320, 1000, np.int16))
    assert output.pull(320) is None  # the physician is no longer heard


async def test_paused_responder_keeps_the_patient_words_and_answers_nothing() -> None:
    llm = ScriptedLLM("I understand.")
    responder = Responder(llm, style="converse")
    out: list = []
    task = PipelineTask([responder], on_output=out.append)
    await task.start()
    await task.queue_frame(HandOverFrame())
    assert responder.paused
    await task.queue_frame(RedactedTranscriptionFrame(text="My chest hurts.", turn=1))
    await task.queue_frame(GuidanceFrame(instruction="Ask how long.", topic="x", turn=1))
    await task.queue_frame(TurnEndFrame(turn=1))
    await wait_until_async(lambda: any(isinstance(f, TurnEndFrame) for f in out), 5)
    await task.queue_frame(HandBackFrame(notes="Ambulance called; keep <PERSON_1> seated."))
    assert not responder.paused
    await task.queue_frame(RedactedTranscriptionFrame(text="Is help coming?", turn=2))
    await task.queue_frame(GuidanceFrame(instruction="Reassure.", topic="x", turn=2))
    await task.stop()
    replies = [f for f in out if isinstance(f, LLMTextFrame)]
    assert {f.turn for f in replies} == {2}  # nothing for the turn the physician had
    assert len(llm.requests) == 1
    system, *rest = llm.requests[0]
    assert "Ambulance called; keep <PERSON_1> seated." in system.content
    assert any(m.content == "My chest hurts." for m in rest)  # heard while paused


async def test_hand_over_overtakes_a_turn_already_on_its_way() -> None:
    llm = ScriptedLLM("I understand.")
    responder = Responder(llm, style="converse")
    out: list = []
    task = PipelineTask([responder], on_output=out.append)
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text="My chest hurts.", turn=1))
    await task.queue_frame(GuidanceFrame(instruction="Ask how long.", topic="x", turn=1))
    await task.queue_frame(HandOverFrame())  # a system frame: ahead of the queued turn
    await task.queue_frame(TurnEndFrame(turn=1))
    await task.stop()
    assert not [f for f in out if isinstance(f, LLMTextFrame)]
    assert llm.requests == []


class NameVault:
    """Tokenises one name, as the PHI vault would."""

    def tokenize(self, text: str) -> SimpleNamespace:
        return SimpleNamespace(text=text.replace("Rajesh", "<PERSON_1>"), entities=())

    def reidentify(self, text: str) -> str:
        return text.replace("<PERSON_1>", "Rajesh")


async def test_physician_notes_are_tokenised_before_the_guide_and_the_responder() -> None:
    llm = ScriptedLLM("I understand.")
    guide, responder = ClinicalGuide(knowledge=None), Responder(llm, style="converse")
    changed: list[tuple[str, ...]] = []
    guide.add_notes_listener(lambda: changed.append(tuple(guide.notes()["physician_notes"])))
    task = PipelineTask([Redactor(NameVault()), guide, responder])
    await task.start()
    await task.queue_frame(HandOverFrame())
    assert guide.paused and responder.paused
    await task.queue_frame(PhysicianNoteFrame(text="Rajesh has angina."))
    await task.queue_frame(HandBackFrame(notes="Keep Rajesh seated."))
    assert not guide.paused and not responder.paused
    notes = ("<PERSON_1> has angina.", "Keep <PERSON_1> seated.")
    assert guide.physician_notes == responder.physician_notes == notes
    assert changed == [notes[:1], notes]  # the physician's screen hears of each
    system = responder.messages("Is help coming?")[0].content
    assert "<PERSON_1> has angina." in system and "Rajesh" not in system
    await task.stop()
