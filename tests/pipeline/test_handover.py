"""What a physician taking over changes in the pipeline: live voices mixed into the patient's
audio, the reply tapped for the listening physician, the assistant paused and given notes."""

from __future__ import annotations

import asyncio

import numpy as np

from dhanvantri.pipeline.frames import (
    GuidanceFrame,
    LLMTextFrame,
    OutputAudioFrame,
    RedactedTranscriptionFrame,
    TurnCommittedFrame,
    TurnEndFrame,
)
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.pipeline.playout import LiveFeed, mix
from dhanvantri.pipeline.responder import Responder
from dhanvantri.pipeline.task import PipelineTask
from tests.pipeline.test_responder import Scripted


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
    output.taps.append(tapped.append)
    doctor = LiveFeed(16000)
    output.feeds.append(doctor)
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


async def test_paused_responder_keeps_the_patient_words_and_answers_nothing() -> None:
    llm = Scripted("I understand.")
    responder = Responder(llm, style="converse")
    responder.paused = True
    out: list = []
    task = PipelineTask([responder], on_output=out.append)
    await task.start()
    await task.queue_frame(RedactedTranscriptionFrame(text="My chest hurts.", turn=1))
    await task.queue_frame(GuidanceFrame(instruction="Ask how long.", topic="x", turn=1))
    await task.queue_frame(TurnEndFrame(turn=1))
    async with asyncio.timeout(5):
        while not responder.history:  # noqa: ASYNC110 - the stage's own task takes the frames
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    responder.paused = False
    responder.physician_notes.append("Ambulance called; keep <PERSON_1> seated.")
    await task.queue_frame(RedactedTranscriptionFrame(text="Is help coming?", turn=2))
    await task.queue_frame(GuidanceFrame(instruction="Reassure.", topic="x", turn=2))
    await task.stop()
    replies = [f for f in out if isinstance(f, LLMTextFrame)]
    assert [f.turn for f in replies] == [2]  # nothing for the turn the physician had
    assert len(llm.requests) == 1
    system, *rest = llm.requests[0]
    assert "Ambulance called; keep <PERSON_1> seated." in system.content
    assert any(m.content == "My chest hurts." for m in rest)  # heard while paused
