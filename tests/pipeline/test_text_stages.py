"""Phrase chunking, visemes and the playout buffer (no models needed)."""

from __future__ import annotations

import itertools

import numpy as np

from dhanvantri.pipeline.frames import LLMTextFrame, ReplyEndFrame, ReplyStartFrame, SpeakFrame
from dhanvantri.pipeline.phrase_chunker import PhraseChunker, split_phrase
from dhanvantri.pipeline.playout import PlayoutBuffer
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.visemes import timeline, viseme_for


def test_first_phrase_is_cut_at_the_first_clause_with_enough_words() -> None:
    assert split_phrase("I see, thank", first=True) is None  # "I see," is too short
    phrase, rest = split_phrase("I am sorry, that sounds hard. How", first=True)
    assert phrase == "I am sorry," and rest == " that sounds hard. How"
    # Later phrases wait for a sentence end.
    assert split_phrase("that sounds hard, and", first=False) is None
    assert split_phrase("that sounds hard. How", first=False)[0] == "that sounds hard."


def test_decimal_points_do_not_end_a_phrase() -> None:
    assert split_phrase("your temperature was 101.5 degrees", first=False) is None


async def test_chunker_speaks_the_first_phrase_before_the_reply_ends() -> None:
    out: list = []
    task = PipelineTask([PhraseChunker()], on_output=out.append)
    await task.start()
    await task.queue_frame(ReplyStartFrame(turn=1))
    for piece in ["I am ", "sorry to ", "hear that, ", "how long ", "has it been?"]:
        await task.queue_frame(LLMTextFrame(text=piece, turn=1))
    spoken_before_end = None
    await task.queue_frame(ReplyEndFrame(turn=1))
    await task.stop()
    kinds = [type(f).__name__ for f in out]
    speaks = [f.text for f in out if isinstance(f, SpeakFrame)]
    spoken_before_end = kinds.index("SpeakFrame") < kinds.index("ReplyEndFrame")
    assert speaks == ["I am sorry to hear that,", "how long has it been?"]
    assert spoken_before_end


def test_visemes_follow_phoneme_timing() -> None:
    assert viseme_for("m") == "MBP" and viseme_for("f") == "FV" and viseme_for("iː") == "EE"
    assert viseme_for("ˈ") is None
    rate = 22050
    shapes = timeline([("^", 1000), ("m", 2205), ("ˈ", 300), ("a", 4410), (" ", 2205)], rate)
    assert [s for s, _, _ in shapes] == ["rest", "MBP", "AI", "rest"]
    # Contiguous and covering the audio exactly.
    assert all(a[1] + a[2] == b[1] for a, b in itertools.pairwise(shapes))
    total_ms = (1000 + 2205 + 300 + 4410 + 2205) * 1000 // rate
    assert shapes[-1][1] + shapes[-1][2] == total_ms


def test_playout_buffer_pulls_in_order_and_clears_at_once() -> None:
    events: list[str] = []
    buffer = PlayoutBuffer(
        48000, on_started=lambda: events.append("start"), on_stopped=lambda: events.append("stop")
    )
    buffer.push(np.arange(1000, dtype=np.int16))
    buffer.push(np.arange(1000, 2000, dtype=np.int16))
    first = buffer.pull(960)
    assert first is not None and first[0] == 0 and first[-1] == 959
    second = buffer.pull(960)
    assert second[0] == 960 and second[39] == 999 and second[40] == 1000
    buffer.clear()
    assert buffer.pull(960) is None and buffer.queued_samples == 0
    assert events == ["start", "stop"]


def test_output_holds_a_speculative_reply_until_its_turn_is_committed() -> None:
    from dhanvantri.pipeline.frames import (
        EventFrame,
        InterruptionFrame,
        OutputAudioFrame,
        TurnCommittedFrame,
    )
    from dhanvantri.pipeline.output import ClientOutput

    events: list[dict] = []
    output = ClientOutput(16000, events.append)
    reply = {"type": "transcript", "role": "assistant", "text": "I see.", "final": True}
    output(EventFrame(event=reply, turn=1))
    output(OutputAudioFrame(audio=np.ones(320, np.int16), sample_rate=16000, turn=1))
    assert output.playout.queued_samples == 0 and reply not in events
    output(TurnCommittedFrame(turn=1))
    assert output.playout.queued_samples == 320 and reply in events
    # A reply for a turn the patient then continued is dropped by the barge-in.
    output(OutputAudioFrame(audio=np.ones(320, np.int16), sample_rate=16000, turn=2))
    output(InterruptionFrame(turn=2))
    output(TurnCommittedFrame(turn=2))
    assert output.playout.queued_samples == 0  # cleared by the interruption, nothing released
