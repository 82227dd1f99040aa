"""Voice activity and end of turn, from Silero VAD probabilities on 32 ms chunks.

States: quiet → speaking (after ``min_speech_ms`` of speech) → paused (after ``pause_ms`` of
silence; stages may start final work speculatively) → turn end (after ``hangover_ms``). Speech
start pushes an :class:`InterruptionFrame` first, so a reply that is playing stops at once; even
before that, the first chunk of speech or of sudden sound holds the reply
(:class:`SpeechOnsetFrame`, see :mod:`~dhanvantri.pipeline.onset`) and a sound that does not
become a turn lets it play on (:class:`SpeechOnsetVoidFrame`), so the patient's voice silences
the avatar within a chunk or two, not ``min_speech_ms``.
Audio is passed on only while the patient speaks, with ``preroll_ms`` of audio before the start.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    InputAudioFrame,
    InterruptionFrame,
    SpeechOnsetFrame,
    SpeechOnsetVoidFrame,
    TurnCommittedFrame,
    TurnEndFrame,
    UserPausedFrame,
    UserResumedFrame,
    UserStartedSpeakingFrame,
)
from dhanvantri.pipeline.onset import OnsetWatch, level_dbfs
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.services import VoiceActivity


class TurnDetector(FrameProcessor):
    """Splits the patient's audio into turns.

    Args:
        vad: speech probability per chunk.
        threshold: probability at or above which a chunk is speech.
        min_speech_ms: speech needed before a turn starts (and before barge-in).
        pause_ms: silence after which the turn *may* be over (speculative work starts).
        hangover_ms: silence after which the turn is over.
        preroll_ms: audio kept from before the detected start (onsets are quiet).
    """

    interruptible = False

    def __init__(
        self,
        vad: VoiceActivity,
        *,
        threshold: float = 0.5,
        min_speech_ms: int = 64,
        pause_ms: int = 96,
        hangover_ms: int = 320,
        preroll_ms: int = 320,
        sample_rate: int = 16000,
    ) -> None:
        super().__init__()
        self.vad = vad
        self.threshold = threshold
        self._chunk = vad.chunk_samples
        chunk_ms = self._chunk * 1000 // sample_rate
        self._min_speech = max(1, -(-min_speech_ms // chunk_ms))
        self._pause = max(1, -(-pause_ms // chunk_ms))
        self._hangover = max(self._pause, -(-hangover_ms // chunk_ms))
        self._preroll: deque[np.ndarray] = deque(maxlen=max(1, preroll_ms // chunk_ms))
        self._pending = np.zeros(0, dtype=np.int16)
        self._speaking = False
        self._speech_run = 0
        self._silence_run = 0
        self._paused = False
        self._last_speech_at = 0.0
        self._onset = OnsetWatch(chunk_ms)
        self.turn = 0

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if not isinstance(frame, InputAudioFrame):
            await self.push_frame(frame, direction)
            return
        self._pending = np.concatenate([self._pending, frame.audio])
        while len(self._pending) >= self._chunk:
            chunk, self._pending = self._pending[: self._chunk], self._pending[self._chunk :]
            await self._on_chunk(chunk, frame.received_at)

    async def _on_chunk(self, chunk: np.ndarray, at: float) -> None:
        probability = self.vad.speech_probability(chunk.astype(np.float32) / 32768.0)
        is_speech = probability >= self.threshold
        if not self._speaking:
            self._preroll.append(chunk)
            self._speech_run = self._speech_run + 1 if is_speech else 0
            change = self._onset.step(level_dbfs(chunk), is_speech)
            if self._speech_run >= self._min_speech:
                self._onset.turn_started()
                await self._start_turn(at)
            elif change == "hold":
                await self.push_frame(SpeechOnsetFrame(turn=self.turn))
            elif change == "release":
                await self.push_frame(SpeechOnsetVoidFrame(turn=self.turn))
            return
        await self._forward(chunk, at)
        if is_speech:
            self._last_speech_at = at
            self._silence_run = 0
            if self._paused:
                self._paused = False
                await self.push_frame(InterruptionFrame(turn=self.turn))
                await self.push_frame(UserResumedFrame(turn=self.turn))
            return
        self._silence_run += 1
        if self._silence_run == self._pause:
            self._paused = True
            await self.push_frame(
                UserPausedFrame(turn=self.turn, speech_end_at=self._last_speech_at)
            )
        if self._silence_run >= self._hangover:
            self._speaking = self._paused = False
            self._speech_run = 0
            await self.push_frame(TurnCommittedFrame(turn=self.turn))
            await self.push_frame(TurnEndFrame(turn=self.turn, speech_end_at=self._last_speech_at))

    async def _start_turn(self, at: float) -> None:
        self.turn += 1
        self._speaking, self._silence_run, self._last_speech_at = True, 0, at
        await self.push_frame(InterruptionFrame(turn=self.turn))
        await self.push_frame(UserStartedSpeakingFrame(turn=self.turn, speech_start_at=at))
        preroll = np.concatenate(list(self._preroll))
        self._preroll.clear()
        await self._forward(preroll, at)

    async def _forward(self, audio: np.ndarray, at: float) -> None:
        await self.push_frame(InputAudioFrame(audio=audio, received_at=at, turn=self.turn))

    async def stop(self) -> None:
        self.vad.reset()
