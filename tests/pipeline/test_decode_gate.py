"""The process's DecodeGate: partial decodes wait while a final decode or a synthesis runs, one
at a time, within their share of a core; the fixed phrases the assistant says are kept."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from dhanvantri.pipeline.decode_gate import DecodeGate
from dhanvantri.pipeline.frames import (
    Frame,
    InputAudioFrame,
    UserPausedFrame,
    UserStartedSpeakingFrame,
)
from dhanvantri.pipeline.services import Transcript
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.transcriber import Transcriber
from tests.support.waiting import wait_until_async


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_partials_wait_for_critical_work_and_each_other() -> None:
    gate = DecodeGate(share=0.5, window_s=2.0, clock=Clock())
    assert gate.try_partial()
    assert not gate.try_partial()  # one at a time
    gate.partial_done(0.1)
    with gate.critical():
        assert not gate.try_partial()  # a final decode or a synthesis runs
    assert gate.try_partial()
    gate.partial_done(0.1)
    assert (gate.allowed, gate.refused) == (2, 2)


def test_partials_keep_to_their_share_of_a_core() -> None:
    clock = Clock()
    gate = DecodeGate(share=0.5, window_s=2.0, clock=clock)
    assert gate.try_partial()
    clock.now += 1.3
    gate.partial_done(1.3)  # 1.0 saved up, 1.3 spent (the refill is capped at the window)
    assert not gate.try_partial()
    clock.now += 0.4  # 0.2 back: still short
    assert not gate.try_partial()
    clock.now += 0.4
    assert gate.try_partial()


class BlockingSTT:
    """Final decodes wait for ``release``; partial decodes are counted."""

    def __init__(self) -> None:
        self.partials = 0
        self.release = threading.Event()

    def transcribe(self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *,
                   partial: bool = False, prompt: str = "") -> Transcript:
        if partial:
            self.partials += 1
            return Transcript(text="partial words", tokens=(1, 2))
        assert self.release.wait(10)
        return Transcript(text="final words")


async def speak(task: PipelineTask, seconds: float) -> None:
    for _ in range(int(seconds * 50)):
        await task.queue_frame(InputAudioFrame(audio=np.zeros(320, np.int16), turn=1))


async def test_a_final_decode_elsewhere_holds_this_sessions_partials() -> None:
    gate = DecodeGate()
    stt = BlockingSTT()
    out: list[Frame] = []
    finishing = PipelineTask([Transcriber(stt, gate=gate)], on_output=out.append)
    speaking = PipelineTask([Transcriber(stt, gate=gate)], on_output=out.append)
    await finishing.start()
    await speaking.start()
    try:
        await finishing.queue_frame(UserStartedSpeakingFrame(turn=1))
        await finishing.queue_frame(UserPausedFrame(turn=1))  # its final decode starts
        await speaking.queue_frame(UserStartedSpeakingFrame(turn=1))
        await speak(speaking, 2.0)
        await wait_until_async(lambda: gate.refused > 0, 10, what="a partial held back")
        assert stt.partials == 0
        stt.release.set()
        await wait_until_async(lambda: gate._critical == 0, 10, what="the final decode's end")
        await speak(speaking, 0.5)
        await wait_until_async(lambda: stt.partials > 0, 10, what="a partial once it is free")
    finally:
        stt.release.set()
        await finishing.stop()
        await speaking.stop()


def test_fixed_speech_holds_the_phrases_a_question_is_spoken_in() -> None:
    from dhanvantri.knowledge.intake import QUESTIONS
    from dhanvantri.knowledge.triage import EMERGENCY_ADVICE
    from dhanvantri.pipeline.phrase_chunker import phrases_of, split_phrase
    from dhanvantri.pipeline.voice import fixed_speech

    book = fixed_speech()
    assert EMERGENCY_ADVICE in book
    duration = QUESTIONS["duration"]  # two sentences: spoken as two phrases
    assert phrases_of(duration) <= book
    later = split_phrase(duration, first=False)
    assert later is not None and later[0] == "Since when have you had this?"
    assert later[0] in book and "For example, how many days?" in book
    assert not any("fever" in text.lower() and "sorry" in text.lower() for text in book)


def test_fixed_speech_holds_an_acknowledgements_fixed_sentences_not_the_patients_words() -> None:
    from dhanvantri.knowledge.acknowledgement import acknowledge
    from dhanvantri.knowledge.intake import IntakeState
    from dhanvantri.pipeline.phrase_chunker import split_phrase
    from dhanvantri.pipeline.voice import fixed_speech

    intake = IntakeState()
    before = intake.as_record()
    intake.update("I have had a fever and a dry cough for three days.")
    said = acknowledge(before, intake.as_record(), turn=1)
    cut = split_phrase(said, first=True)
    assert cut is not None
    facts, empathy = cut[0], cut[1].strip()  # "I've noted fever …" then "That sounds hard."
    book = fixed_speech()
    assert "fever" in facts and facts not in book
    assert empathy and empathy in book


def test_share_zero_is_no_gate() -> None:
    gate = DecodeGate(share=0)
    with gate.critical():
        assert gate.try_partial() and gate.try_partial()  # as before the gate: always
    gate.partial_done(5.0)
    assert gate.try_partial() and gate.refused == 0


def test_piper_on_one_thread_keeps_its_phoneme_timing() -> None:
    from dhanvantri.pipeline.tts_piper import PiperTTS

    tts = PiperTTS(threads=1)
    assert tts.voice.session.get_session_options().intra_op_num_threads == 1
    chunks = tts.synthesize("How long have you had the fever?")
    assert chunks and all(c.phonemes for c in chunks)
    assert sum(n for c in chunks for _, n in c.phonemes) == sum(len(c.audio) for c in chunks)


class GatedTTS:
    """Synthesis waits for ``release``; records the order of the texts it was given."""

    sample_rate = 16000

    def __init__(self) -> None:
        self.said: list[str] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.release_first = threading.Event()

    def synthesize(self, text: str) -> list:
        from dhanvantri.pipeline.services import SpeechChunk

        self.said.append(text)
        self.started.set()
        assert (self.release_first if "first" in text else self.release).wait(10)
        return [SpeechChunk(audio=np.zeros(160, np.int16), sample_rate=16000)]


async def test_first_phrases_go_ahead_and_a_cut_off_phrase_is_never_synthesised() -> None:
    import asyncio

    from dhanvantri.pipeline.speech_queue import SpeechQueue

    tts = GatedTTS()
    speech = SpeechQueue(tts, workers=1)
    try:
        busy = asyncio.ensure_future(speech.synthesize("a later phrase", first=False))
        await asyncio.to_thread(tts.started.wait, 10)  # the later phrases' worker is busy
        later = asyncio.ensure_future(speech.synthesize("another reply's later one", first=False))
        dropped = asyncio.ensure_future(speech.synthesize("cut off by barge-in", first=False))
        await asyncio.sleep(0)
        dropped.cancel()
        # A first phrase has a worker of its own: it is spoken while the later one still waits.
        tts.release_first.set()
        assert len(await speech.synthesize("a reply's first phrase", first=True)) == 1
        assert not later.done()
        tts.release.set()
        assert len(await later) == 1 and len(await busy) == 1
        assert tts.said == ["a later phrase", "a reply's first phrase", "another reply's later one"]
    finally:
        tts.release.set()
        speech.close()


async def test_later_phrases_are_synthesised_at_a_lower_priority() -> None:
    import asyncio

    from dhanvantri.pipeline.priority import thread_nice
    from dhanvantri.pipeline.services import SpeechChunk
    from dhanvantri.pipeline.speech_queue import SpeechQueue

    class NiceTTS:
        sample_rate = 16000

        def synthesize(self, text: str) -> list[SpeechChunk]:
            return [SpeechChunk(audio=np.zeros(thread_nice() + 1, np.int16), sample_rate=16000)]

    speech = SpeechQueue(NiceTTS(), workers=1, later_nice=7)
    try:
        first, later = await asyncio.gather(speech.synthesize("first", first=True),
                                            speech.synthesize("later", first=False))
        # Each chunk's length tells the nice value of the thread that synthesised it.
        assert len(first[0].audio) == thread_nice() + 1
        assert len(later[0].audio) == max(thread_nice(), 7) + 1
    finally:
        speech.close()


class ChosenLengths:
    """A speech queue that answers at once with speech of each text's length, noting which
    phrases it was asked to put ahead."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.asked: list[tuple[str, bool]] = []

    async def synthesize(self, text: str, *, first: bool) -> list:
        from dhanvantri.pipeline.services import SpeechChunk

        self.asked.append((text, first))
        return [SpeechChunk(audio=np.zeros(int(self.seconds[text] * 16000), np.int16),
                            sample_rate=16000)]


async def test_a_reply_opening_with_a_short_book_sentence_keeps_its_next_phrase_ahead() -> None:
    from dhanvantri.pipeline.frames import SpeakFrame
    from dhanvantri.pipeline.phrasebook import Phrasebook
    from dhanvantri.pipeline.services import SpeechChunk
    from dhanvantri.pipeline.speaker import Speaker

    book = Phrasebook(None, ["I see."])  # type: ignore[arg-type]
    book.keep("I see.", [SpeechChunk(audio=np.zeros(6400, np.int16), sample_rate=16000)])
    speech = ChosenLengths({"How bad is the fever?": 1.5, "A fever for three days.": 1.6,
                            "How bad is it?": 1.2})
    task = PipelineTask([Speaker(None, output_sample_rate=16000,  # type: ignore[arg-type]
                                 phrasebook=book, speech=speech)])  # type: ignore[arg-type]
    await task.start(output_sample_rate=16000)
    for turn, text in [(1, "I see."), (1, "How bad is the fever?"),
                       (2, "A fever for three days."), (2, "How bad is it?")]:
        await task.queue_frame(SpeakFrame(text=text, turn=turn))
    await task.stop()
    # 0.4 s of "I see." would play out before a later phrase's turn came: the question goes
    # ahead too. After a 1.6 s first phrase, the next one has time and waits its turn.
    assert speech.asked == [("How bad is the fever?", True), ("A fever for three days.", True),
                            ("How bad is it?", False)]


class CountingSTT:
    """Final decodes come back at once and are counted."""

    def __init__(self) -> None:
        self.finals = 0

    def transcribe(self, audio: np.ndarray, prefix_tokens: Sequence[int] = (), *,
                   partial: bool = False, prompt: str = "") -> Transcript:
        if not partial:
            self.finals += 1
        return Transcript(text="final words")


async def test_a_pause_while_others_work_waits_longer_before_its_speculative_decode() -> None:
    from dhanvantri.pipeline.frames import TranscriptionFrame, TurnEndFrame, UserResumedFrame

    gate, stt = DecodeGate(), CountingSTT()
    out: list[Frame] = []
    transcriber = Transcriber(stt, gate=gate, busy_wait_ms=600_000)  # never within the test
    task = PipelineTask([transcriber], on_output=out.append)
    await task.start()
    try:
        gate.begin()  # another consultation's final decode or synthesis runs
        await task.queue_frame(UserStartedSpeakingFrame(turn=1))
        await speak(task, 0.3)
        await task.queue_frame(UserPausedFrame(turn=1))
        await wait_until_async(lambda: transcriber._deferred is not None, 10, what="deferral")
        await task.queue_frame(UserResumedFrame(turn=1))  # a breath, not the end
        await speak(task, 0.3)
        await task.queue_frame(UserPausedFrame(turn=1))
        await task.queue_frame(TurnEndFrame(turn=1))
        await wait_until_async(
            lambda: sum(isinstance(f, TranscriptionFrame) and f.final for f in out) == 1, 10,
            what="the final transcript")
        assert stt.finals == 1  # the breath cost no decode; the turn's end, one
        gate.end()
        # With the process idle, a pause starts its speculative decode at once.
        await task.queue_frame(UserStartedSpeakingFrame(turn=2))
        await speak(task, 0.3)
        await task.queue_frame(UserPausedFrame(turn=2))
        await wait_until_async(lambda: stt.finals == 2, 10, what="the speculative decode")
        assert transcriber._deferred is None
    finally:
        await task.stop()
