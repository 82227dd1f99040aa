"""Text-to-speech by phrase, resampled for the transport.

Each phrase is synthesised in a worker thread as soon as it arrives; barge-in cancels the wait
and drops the phrases still queued, so speech stops mid-sentence.
"""

from __future__ import annotations

import asyncio

import numpy as np

from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    MetricsFrame,
    OutputAudioFrame,
    SpeakFrame,
    StartFrame,
    now,
)
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.services import TextToSpeech


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """int16 mono audio at ``target_rate`` (soxr, high quality)."""
    if source_rate == target_rate:
        return audio
    import soxr

    out = soxr.resample(audio.astype(np.float32) / 32768.0, source_rate, target_rate)
    return np.clip(out * 32768.0, -32768, 32767).astype(np.int16)


class Speaker(FrameProcessor):
    """Turns :class:`SpeakFrame` phrases into :class:`OutputAudioFrame` audio."""

    def __init__(self, tts: TextToSpeech, *, output_sample_rate: int = 48000) -> None:
        super().__init__()
        self.tts = tts
        self.output_sample_rate = output_sample_rate

    async def start(self, frame: StartFrame) -> None:
        self.output_sample_rate = frame.output_sample_rate

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if not isinstance(frame, SpeakFrame):
            await self.push_frame(frame, direction)
            return
        started = now()
        chunks = await asyncio.to_thread(self.tts.synthesize, frame.text)
        await self.push_frame(
            MetricsFrame(name="tts", turn=frame.turn, value_ms=(now() - started) * 1e3)
        )
        for chunk in chunks:
            audio = resample(chunk.audio, chunk.sample_rate, self.output_sample_rate)
            await self.push_frame(
                OutputAudioFrame(
                    audio=audio,
                    sample_rate=self.output_sample_rate,
                    canned=frame.canned,
                    phonemes=chunk.phonemes,
                    phoneme_rate=chunk.sample_rate,
                    turn=frame.turn,
                )
            )
