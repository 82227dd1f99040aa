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

SAID = (11, 12, 13, 14, 15)  # "No rash and no vomiting."


def test_a_decode_that_says_its_prefix_again_went_round() -> None:
    assert went_round_again(SAID + SAID[:3], SAID)
    assert went_round_again((7, 7, 7, 7), ())  # "I I I I"
    assert went_round_again((1, 8, 9, 8, 9, 8, 9, 8, 9), ())  # "thy thy thy thy"


def test_a_decode_that_ends_or_goes_on_did_not() -> None:
    assert not went_round_again(SAID, SAID)
    assert not went_round_again((*SAID, 21, 22), SAID)  # more words after the prefix
    assert not went_round_again((*SAID, 11, 30), SAID)  # only a word in common
    assert not went_round_again((7, 7, 7, 8), ())
    assert not went_round_again(SAID, ())


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
            tokens = prefix + SAID[:3] if prefix else SAID
        return Transcript(text=" ".join(map(str, tokens)), tokens=tokens)


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
    assert finals == [" ".join(map(str, SAID))]
    assert stt.finals == [SAID[:4], ()]  # the fast decode looped; the free one is kept
    assert any(isinstance(f, TurnEndFrame) for f in out)


def partials(out: list[Frame]) -> list[TranscriptionFrame]:
    return [f for f in out if isinstance(f, TranscriptionFrame) and not f.final]
