"""The two paths that must beat every routine reply: an emergency's advice, and the patient's
voice silencing the avatar (held at the first chunk of speech, cleared at barge-in)."""

from __future__ import annotations

import numpy as np
import pytest

from dhanvantri.knowledge.triage import EMERGENCY_ADVICE, advice_for, triage
from dhanvantri.pipeline.clinical_guide import EMERGENCY_TOPIC, ClinicalGuide
from dhanvantri.pipeline.frames import (
    EndFrame,
    EscalationFrame,
    Frame,
    GuidanceFrame,
    InputAudioFrame,
    InterruptionFrame,
    OutputAudioFrame,
    RedactedTranscriptionFrame,
    RedFlagFrame,
    SpeakFrame,
    SpeechOnsetFrame,
    SpeechOnsetVoidFrame,
    StartFrame,
    TranscriptionFrame,
    TurnCommittedFrame,
    TurnEndFrame,
    UserStartedSpeakingFrame,
)
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.pipeline.red_flag_watch import RedFlagWatch
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.turn_detector import TurnDetector
from tests.support.knowledge import SymptomOnlyKB
from tests.support.waiting import wait_until_async

CHEST = "i have crushing chest pain spreading to my left arm and i am sweating"


async def run(stages: list, frames: list[Frame]) -> list[Frame]:
    out: list[Frame] = []
    task = PipelineTask(stages, on_output=out.append)
    await task.start()
    for frame in frames:
        await task.queue_frame(frame)
    await task.stop()
    return out


async def test_partials_make_an_emergency_ready_once_and_the_final_confirms_it() -> None:
    partial = [TranscriptionFrame(text=t, turn=1) for t in (
        "i have crushing", "i have crushing chest pain spreading", CHEST)]
    final = TranscriptionFrame(text=CHEST, final=True, turn=1)
    calm = TranscriptionFrame(text="i have a mild cough", final=True, turn=2)
    out = await run([RedFlagWatch()], [*partial, final, calm])
    flags = [f for f in out if isinstance(f, RedFlagFrame)]
    expected = tuple(triage(CHEST).red_flags)
    assert expected and [(f.confirmed, f.red_flags, f.turn) for f in flags] == [
        (False, expected, 1), (True, expected, 1)]
    assert flags[1].advice == advice_for(expected) and flags[1].advice[0] == EMERGENCY_ADVICE
    # Every transcript goes on unchanged, the red flags ahead of the final that confirmed them.
    texts = [f for f in out if isinstance(f, TranscriptionFrame)]
    assert texts == [*partial, final, calm]
    assert out.index(flags[1]) < out.index(final)


async def test_the_guide_says_the_advice_before_the_redacted_turn_and_not_twice() -> None:
    guide = ClinicalGuide(SymptomOnlyKB())
    flags = tuple(triage(CHEST).red_flags)
    confirmed = RedFlagFrame(red_flags=flags, advice=advice_for(flags), confirmed=True, turn=1)
    out: list[Frame] = []
    task = PipelineTask([guide], on_output=out.append)
    await task.start()
    await task.queue_frame(confirmed)
    # Answered with no redacted words yet: the final's red flags alone start it.
    advice = advice_for(flags)
    await wait_until_async(lambda: sum(isinstance(f, SpeakFrame) for f in out) == len(advice), 5,
                           what="the advice")
    spoken = [f for f in out if isinstance(f, SpeakFrame)]
    assert [f.text for f in spoken] == list(advice_for(flags)) and all(f.vetted for f in spoken)
    escalations = [f for f in out if isinstance(f, EscalationFrame)]
    assert len(escalations) == 1 and escalations[0].emergency and escalations[0].red_flags == flags
    await task.queue_frame(RedactedTranscriptionFrame(text=CHEST, turn=1))
    await task.queue_frame(TurnEndFrame(turn=1))
    await task.stop()
    assert len([f for f in out if isinstance(f, SpeakFrame)]) == len(spoken)
    assert len([f for f in out if isinstance(f, EscalationFrame)]) == 1
    guidance = [f for f in out if isinstance(f, GuidanceFrame)]
    assert [g.topic for g in guidance] == [EMERGENCY_TOPIC]  # no intake question this turn
    assert set(flags) <= set(guide.red_flags)
    assert guide.record()["intake"] != ClinicalGuide(SymptomOnlyKB()).record()["intake"]


async def test_a_turn_the_patient_went_on_with_has_its_emergency_said_again() -> None:
    flags = tuple(triage(CHEST).red_flags)
    confirmed = RedFlagFrame(red_flags=flags, advice=advice_for(flags), confirmed=True, turn=1)
    out: list[Frame] = []
    task = PipelineTask([ClinicalGuide(SymptomOnlyKB())], on_output=out.append)
    await task.start()
    for _ in range(2):  # the turn's final, then (the patient went on) its next final
        await task.queue_frame(InterruptionFrame(turn=1))
        await task.queue_frame(confirmed)
        await wait_until_async(lambda: sum(isinstance(f, SpeakFrame) for f in out)
                               == len(confirmed.advice), 5, what="the advice")
        said = [f.text for f in out if isinstance(f, SpeakFrame)]
        out.clear()
    await task.stop()
    assert said == list(advice_for(flags))


async def test_the_final_alone_still_answers_an_emergency_without_the_watch() -> None:
    out = await run([ClinicalGuide(SymptomOnlyKB())],
                    [RedactedTranscriptionFrame(text=CHEST, turn=1), TurnEndFrame(turn=1)])
    said = [f.text for f in out if isinstance(f, SpeakFrame)]
    assert said == list(triage(CHEST).advice_parts)
    assert [f.emergency for f in out if isinstance(f, EscalationFrame)] == [True]


class ScriptedVAD:
    """Speech or not per 32 ms chunk, as scripted (the real VAD is tested with speech)."""

    chunk_samples = 512

    def __init__(self, script: str) -> None:
        self.script = iter(script)

    def speech_probability(self, chunk: np.ndarray) -> float:
        return 1.0 if next(self.script, "-") == "S" else 0.0

    def reset(self) -> None:
        pass


async def detect(script: str) -> list[type]:
    audio = np.zeros(512 * len(script), np.int16)
    out = await run([TurnDetector(ScriptedVAD(script), min_speech_ms=120)],
                    [InputAudioFrame(audio=audio)])
    return [type(f) for f in out if not isinstance(f, (InputAudioFrame, StartFrame, EndFrame))]


async def test_the_first_chunk_of_speech_holds_the_reply_and_a_click_releases_it() -> None:
    assert await detect("--S--") == [SpeechOnsetFrame, SpeechOnsetVoidFrame]
    started = await detect("-SSSS-")
    assert started[:3] == [SpeechOnsetFrame, InterruptionFrame, UserStartedSpeakingFrame]
    assert SpeechOnsetVoidFrame not in started


def test_held_reply_audio_waits_and_plays_on_where_it_stopped() -> None:
    events: list[dict] = []
    output = ClientOutput(16000, events.append)
    output(TurnCommittedFrame(turn=1))
    output(OutputAudioFrame(audio=np.arange(960, dtype=np.int16), sample_rate=16000, turn=1))
    assert output.pull(320).tolist() == list(range(320))
    output(SpeechOnsetFrame(turn=1))
    assert output.pull(320) is None and output.playout.playing  # paused, not over
    output(SpeechOnsetVoidFrame(turn=1))
    assert output.pull(320).tolist() == list(range(320, 640))
    output(SpeechOnsetFrame(turn=1))
    output(InterruptionFrame(turn=2))  # it was the patient: the rest is dropped
    assert output.pull(320) is None and not output.playout.held
    output(OutputAudioFrame(audio=np.ones(320, np.int16), sample_rate=16000, turn=1))
    assert output.pull(320) is not None  # the next reply is not held
    assert [e["value"] for e in events if e["type"] == "state"] == [
        "thinking", "speaking", "listening", "speaking"]


class CountingTTS:
    """The real synthesiser, with the texts it was asked for."""

    def __init__(self) -> None:
        from dhanvantri.pipeline.tts_piper import PiperTTS

        self.tts = PiperTTS()
        self.sample_rate = self.tts.sample_rate
        self.calls: list[str] = []

    def synthesize(self, text: str) -> list:
        self.calls.append(text)
        return self.tts.synthesize(text)


@pytest.mark.models
async def test_speaker_uses_the_phrasebook_for_its_texts_only() -> None:
    from dhanvantri.pipeline.phrasebook import Phrasebook
    from dhanvantri.pipeline.speaker import Speaker

    tts_counter = CountingTTS()
    flags = tuple(triage(CHEST).red_flags)
    advice = advice_for(flags)
    book = Phrasebook(tts_counter, advice)
    book.prepare([EMERGENCY_ADVICE, "Not one of the book's."])
    assert tts_counter.calls == [EMERGENCY_ADVICE]
    out: list[Frame] = []
    task = PipelineTask([Speaker(tts_counter, phrasebook=book)], on_output=out.append)
    await task.start(output_sample_rate=16000)
    await task.queue_frame(SpeakFrame(text=EMERGENCY_ADVICE, vetted=True, turn=1))
    await task.queue_frame(RedFlagFrame(red_flags=flags, advice=advice, turn=2))
    await wait_until_async(lambda: all(book.speech(t) is not None for t in advice), 30,
                           what="the first aid spoken into the book")
    # The same words sound the same, vetted or not; a text the book lacks is synthesised.
    await task.queue_frame(SpeakFrame(text=EMERGENCY_ADVICE, turn=3))
    await task.queue_frame(SpeakFrame(text="Not one of the book's.", turn=4))
    await task.stop()
    assert tts_counter.calls == [EMERGENCY_ADVICE, *advice[1:], "Not one of the book's."]
    by_turn = {f.turn for f in out if isinstance(f, OutputAudioFrame)}
    assert by_turn == {1, 3, 4}
    first = [f for f in out if isinstance(f, OutputAudioFrame) and f.turn == 1]
    assert sum(len(f.audio) for f in first) / 16000 > 4  # the whole opening, resampled


def test_a_sudden_sound_holds_before_the_vad_hears_speech_and_noise_cannot_stutter_it() -> None:
    from dhanvantri.pipeline.onset import OnsetWatch

    watch = OnsetWatch(32)
    room = [watch.step(-65.0, False) for _ in range(30)]
    assert room == [None] * 30
    # The /s/ of "Sorry": loud at once, speech to the VAD only from the vowel.
    assert [watch.step(lvl, sp) for lvl, sp in [(-30, False), (-28, False), (-20, True)]] == [
        "hold", None, None]
    watch.turn_started()
    assert not watch.holding
    # A click: held, then let go after two quiet chunks.
    assert [watch.step(lvl, False) for lvl in (-25, -65, -65)] == ["hold", None, "release"]
    # A steady loud noise the VAD never calls speech is let go after max_hold_ms, and is the
    # room's level from then on.
    steps = [watch.step(-30, False) for _ in range(12)]
    assert steps == ["hold", *[None] * 7, "release", None, None, None]
    # That was the second false hold; a third in the window mutes loudness alone for a while.
    for _ in range(5):
        watch.step(-65, False)
    assert [watch.step(lvl, False) for lvl in (-25, -65, -65)] == ["hold", None, "release"]
    assert [watch.step(-25, False) for _ in range(3)] == [None, None, None]
    assert watch.step(-25, True) == "hold"  # speech still holds


def test_the_background_level_rises_slowly_and_falls_at_once() -> None:
    from dhanvantri.pipeline.onset import OnsetWatch, level_dbfs

    assert level_dbfs(np.zeros(512, np.int16)) == -120.0
    assert abs(level_dbfs(np.full(512, 3277, np.int16)) + 20.0) < 0.1
    watch = OnsetWatch(32)
    for _ in range(10):
        watch.step(-70, False)
    watch.step(-60, False)  # 10 dB up: not sudden, and the background climbs only a little
    assert watch.step(-48, False) == "hold"  # still 20 dB above the background
