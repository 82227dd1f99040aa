"""A final decode that loops (the forced prefix said again, a word stuck) is decoded again."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dhanvantri.pipeline.frames import (
    Frame,
    InputAudioFrame,
    TranscriptionFrame,
    TurnEndFrame,
    UserPausedFrame,
    UserStartedSpeakingFrame,
)
from dhanvantri.pipeline.services import Transcript
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.transcriber import Transcriber, went_round_again
from tests.support.waiting import wait_until_async

SAID = (11, 12, 13, 14, 15)  # "no rash and no vomiting"
WORDS = {11: "no", 12: " rash,", 13: " and", 14: " no", 15: " vomiting."}


def test_a_decode_that_starts_over_or_sticks_went_round() -> None:
    assert went_round_again("No rash, and no vomiting. No rash, and no")
    assert went_round_again("I am 34 years old, male, and I weigh 70 kilos. I am 34 years old")
    assert went_round_again("I I I I have a fever")
    assert went_round_again("thy thy thy thy")
    assert went_round_again("it hurts here it hurts here it hurts here it hurts here")


def test_speech_that_merely_repeats_a_word_did_not() -> None:
    assert not went_round_again("No rash, and no vomiting.")
    assert not went_round_again("I have fever, I have cough and I have a headache.")
    assert not went_round_again("No, no, no.")
    assert not went_round_again("")


def text(tokens: tuple[int, ...]) -> str:
    return "".join(WORDS[t] for t in tokens)


class LoopingSTT:
    """Heard ``SAID``; a final forced to start with a prefix starts the turn over after it, as
    Whisper does when the prefix already holds all the speech."""

    def __init__(self) -> None:
        self.finals: list[tuple[int, ...]] = []  # the prefix each final decode was given

    def transcribe(self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *,
                   partial: bool = False) -> Transcript:
        prefix = tuple(prefix_tokens)
        tokens = SAID
        if not partial:
            self.finals.append(prefix)
            # the rest of the turn, then the turn again: " no rash, and" (" no" is not "no")
            tokens = (*prefix, 15, 14, 12, 13) if prefix else SAID
        return Transcript(text=text(tokens), tokens=tokens)


async def test_a_looped_final_is_decoded_again_without_the_prefix() -> None:
    stt, out = LoopingSTT(), []
    task = PipelineTask([Transcriber(stt, partial_interval_ms=20)], on_output=out.append)
    await task.start()
    await task.queue_frame(UserStartedSpeakingFrame(turn=1))
    for heard in (1, 2):  # two partial decodes agree: the final gets their prefix
        await task.queue_frame(InputAudioFrame(audio=np.zeros(320, np.int16), turn=1))
        await wait_until_async(lambda n=heard: len(partials(out)) >= n, 10,
                               what="a partial transcript")
    await task.queue_frame(UserPausedFrame(turn=1))
    await task.queue_frame(TurnEndFrame(turn=1))
    await task.stop()
    finals = [f.text for f in out if isinstance(f, TranscriptionFrame) and f.final]
    assert finals == [text(SAID)]
    assert stt.finals == [SAID[:4], ()]  # the fast decode looped; the free one is kept
    assert any(isinstance(f, TurnEndFrame) for f in out)


def partials(out: list[Frame]) -> list[TranscriptionFrame]:
    return [f for f in out if isinstance(f, TranscriptionFrame) and not f.final]
