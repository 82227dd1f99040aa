"""A final decode that loops (the forced prefix said again, a word stuck) is decoded again."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

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
from dhanvantri.pipeline.transcriber import Transcriber, without_restart
from tests.support.waiting import wait_until_async

SAID = (11, 12, 13, 14, 15)  # "no rash and no vomiting"
WORDS = {11: "no", 12: " rash,", 13: " and", 14: " no", 15: " vomiting."}


@pytest.mark.parametrize(("decoded", "said"), [
    ("No rash and no marketing. No rash and no marketing.", "No rash and no marketing."),
    ("I have loose motions and stomach pain since this morning. I have loose motions and "
     "stomach pain", "I have loose motions and stomach pain since this morning."),
    ("No rash, and no vomiting, no rash, and no", "No rash, and no vomiting"),
])
def test_a_turn_decoded_twice_over_is_kept_once(decoded: str, said: str) -> None:
    assert without_restart(decoded) == said


@pytest.mark.parametrize("said", [
    "No rash, and no vomiting.",
    "I have fever, I have cough and I have a headache.",
    "No, no, no.",
    "I have a",
    "",
])
def test_speech_that_repeats_a_word_is_left_alone(said: str) -> None:
    assert without_restart(said) == said


def text(tokens: tuple[int, ...]) -> str:
    return "".join(WORDS[t] for t in tokens)


class LoopingSTT:
    """Heard ``SAID``; its final decode goes on to start the turn over, as Whisper's does."""

    def __init__(self) -> None:
        self.finals: list[tuple[int, ...]] = []  # the prefix each final decode was given

    def transcribe(self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *,
                   partial: bool = False, prompt: str = "") -> Transcript:
        tokens = SAID
        if not partial:
            self.finals.append(tuple(prefix_tokens))
            # the turn, then the turn again: " no rash, and" (" no" is not "no")
            tokens = (*SAID, 14, 12, 13)
        return Transcript(text=text(tokens), tokens=tokens)


async def test_a_final_that_went_round_again_is_sent_once() -> None:
    stt, out = LoopingSTT(), []
    task = PipelineTask([Transcriber(stt, partial_interval_ms=20)], on_output=out.append)
    await task.start()
    await task.queue_frame(UserStartedSpeakingFrame(turn=1))
    for heard in (1, 2):  # two partial decodes agree, yet the final decode starts afresh
        await task.queue_frame(InputAudioFrame(audio=np.zeros(320, np.int16), turn=1))
        await wait_until_async(lambda n=heard: len(partials(out)) >= n, 10,
                               what="a partial transcript")
    await task.queue_frame(UserPausedFrame(turn=1))
    await task.queue_frame(TurnEndFrame(turn=1))
    await task.stop()
    finals = [f.text for f in out if isinstance(f, TranscriptionFrame) and f.final]
    assert finals == [text(SAID)]
    assert stt.finals == [()]  # the partials' agreed prefix would carry their mishearings
    assert any(isinstance(f, TurnEndFrame) for f in out)


def partials(out: list[Frame]) -> list[TranscriptionFrame]:
    return [f for f in out if isinstance(f, TranscriptionFrame) and not f.final]
