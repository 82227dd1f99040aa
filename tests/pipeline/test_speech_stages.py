"""Turn detection, streaming transcription, speech synthesis and barge-in with the real models."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from dhanvantri.pipeline.frames import (
    Frame,
    InputAudioFrame,
    OutputAudioFrame,
    SpeakFrame,
    TranscriptionFrame,
    TurnEndFrame,
    UserPausedFrame,
    UserStartedSpeakingFrame,
)
from dhanvantri.pipeline.lip_sync import LipSync
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.pipeline.speaker import Speaker
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.transcriber import Transcriber, agreed_prefix
from dhanvantri.pipeline.turn_detector import TurnDetector

pytestmark = pytest.mark.models
FRAME = 320  # 20 ms at 16 kHz


@pytest.fixture(scope="module")
def stt():
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    return WhisperSTT()


@pytest.fixture(scope="module")
def tts():
    from dhanvantri.pipeline.tts_piper import PiperTTS

    return PiperTTS()


def vad():
    from dhanvantri.pipeline.vad_silero import SileroVAD

    return SileroVAD()


async def feed(task: PipelineTask, audio: np.ndarray, *, pace: float = 0.0) -> None:
    for offset in range(0, len(audio), FRAME):
        await task.queue_frame(InputAudioFrame(audio=audio[offset : offset + FRAME]))
        await asyncio.sleep(pace)


def with_silence(audio: np.ndarray, before: float = 0.3, after: float = 1.0) -> np.ndarray:
    return np.concatenate(
        [np.zeros(int(before * 16000), np.int16), audio, np.zeros(int(after * 16000), np.int16)]
    )


def test_agreed_prefix_holds_back_the_unsettled_tail() -> None:
    assert agreed_prefix((1, 2, 3, 4), (1, 2, 3, 5, 6)) == (1, 2)
    assert agreed_prefix((), (1, 2)) == ()
    assert agreed_prefix((9,), (1, 2)) == ()


async def test_turn_detector_finds_one_turn_with_pause_then_end(speech) -> None:
    out: list[Frame] = []
    task = PipelineTask([TurnDetector(vad(), hangover_ms=320)], on_output=out.append)
    await task.start()
    await feed(task, with_silence(speech("I have a headache since yesterday.")))
    await task.stop()
    kinds = [type(f) for f in out if not isinstance(f, InputAudioFrame)]
    assert kinds.count(UserStartedSpeakingFrame) == 1
    assert kinds.count(TurnEndFrame) == 1
    assert kinds.index(UserPausedFrame) < kinds.index(TurnEndFrame)
    end = next(f for f in out if isinstance(f, TurnEndFrame))
    assert end.speech_end_at > 0 and end.turn == 1


async def test_silence_and_noise_make_no_turn() -> None:
    out: list[Frame] = []
    task = PipelineTask([TurnDetector(vad())], on_output=out.append)
    await task.start()
    rng = np.random.default_rng(1)
    await feed(task, (rng.normal(0, 60, 32000)).astype(np.int16))
    await task.stop()
    assert not any(isinstance(f, (UserStartedSpeakingFrame, TurnEndFrame)) for f in out)


async def test_transcriber_streams_partials_then_a_correct_final(speech, stt) -> None:
    out: list[Frame] = []
    task = PipelineTask(
        [TurnDetector(vad()), Transcriber(stt, partial_interval_ms=400)], on_output=out.append
    )
    await task.start()
    # Real-time pace so partial decodes run while the patient is "speaking".
    await feed(
        task, with_silence(speech("I have a sore throat and a runny nose since Monday.")), pace=0.02
    )
    await task.stop()
    transcripts = [f for f in out if isinstance(f, TranscriptionFrame)]
    finals = [f for f in transcripts if f.final]
    # A pause the detector hears mid-sentence sends a final at once; when the patient goes on,
    # the turn's next final covers all its audio. Where espeak's speech pauses is not this
    # test's: the turn's last final holds every word, and all belong to the one turn.
    assert finals and {f.turn for f in finals} == {finals[0].turn}
    text = finals[-1].text.lower()
    assert "sore throat" in text and "runny nose" in text
    assert any(not f.final for f in transcripts), "no partial transcript while speaking"
    kinds = [type(f) for f in out]
    assert kinds.index(TranscriptionFrame) < kinds.index(TurnEndFrame)


async def test_speaker_makes_audio_with_a_matching_viseme_timeline(tts) -> None:
    out: list[Frame] = []
    task = PipelineTask([Speaker(tts, output_sample_rate=48000), LipSync()], on_output=out.append)
    await task.start(output_sample_rate=48000)
    await task.queue_frame(SpeakFrame(text="How long have you had the fever?", turn=1))
    await task.stop()
    audio = [f for f in out if isinstance(f, OutputAudioFrame)]
    assert audio and audio[0].sample_rate == 48000
    seconds = sum(len(f.audio) for f in audio) / 48000
    assert 1.0 < seconds < 4.0
    assert np.abs(audio[0].audio).max() > 1000  # not silence
    events = [f.event for f in out if getattr(f, "event", None) and f.event["type"] == "viseme"]
    assert events
    last = events[0]["visemes"][-1]
    duration_ms = len(audio[0].audio) * 1000 / 48000
    assert abs(last[1] + last[2] - duration_ms) < 5
    assert {"MBP", "FV"} & {v[0] for v in events[0]["visemes"]}  # "have", "fever"


async def test_barge_in_stops_reply_audio_within_100ms_of_speech(speech, tts) -> None:
    """Audio in and out advance in lockstep, 20 ms per step, as on a live call. The server's
    own speech minimum (120 ms) applies: the first chunk of speech holds the reply before it."""
    from dhanvantri.settings import Settings

    events: list[dict] = []
    output = ClientOutput(16000, events.append)
    detector = TurnDetector(vad(), min_speech_ms=Settings().vad_min_speech_ms)
    task = PipelineTask([detector, Speaker(tts)], on_output=output)
    await task.start(output_sample_rate=16000)
    await task.queue_frame(
        SpeakFrame(
            text="Thank you for telling me. I would like to ask a few "
            "more questions about your symptoms before the doctor "
            "reviews your case."
        )
    )  # a greeting: turn 0
    while output.playout.queued_samples < 16000 * 3:  # noqa: ASYNC110 - polling a buffer
        await asyncio.sleep(0.01)
    patient = speech("Sorry, I have a question.")  # a quiet /s/ the VAD is slow to call speech
    onset = int(np.argmax(np.abs(patient) > 500))  # first audible sample of the patient
    mic = np.concatenate([np.zeros(16000, np.int16), patient])
    onset += 16000
    played_after_onset = 0
    for step, offset in enumerate(range(0, len(mic), FRAME)):
        await task.queue_frame(InputAudioFrame(audio=mic[offset : offset + FRAME]))
        for _ in range(5):
            await asyncio.sleep(0)
        reply = output.playout.pull(FRAME)
        if offset + FRAME > onset and reply is not None:
            played_after_onset += 1
        if step * FRAME > onset + 16000:
            break
    await task.cancel()
    assert output.playout.cleared_at is not None, "barge-in never happened"
    print(f"reply audio played after speech onset: {played_after_onset * 20} ms")
    assert played_after_onset * 20 <= 100, f"reply kept playing {played_after_onset * 20} ms"
    assert {"type": "state", "value": "speaking"} in events
    assert events[-1] == {"type": "state", "value": "listening"}
