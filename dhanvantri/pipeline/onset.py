"""When to hold the reply for a sound that may be the patient starting to talk.

Barge-in proper needs ``min_speech_ms`` of speech by the VAD, and the VAD itself is slow on the
words patients often cut in with: Silero gives the /s/ of "Sorry", "So", "Stop" less than 0.3
for ~100 ms, until the vowel. Holding the reply costs little (it plays on, from where it
stopped, if the sound was nothing), so the hold starts on the first chunk that is speech *or*
sharply louder than the room: ``rise_db`` above the background level (tracked from the quiet
chunks: down at once, up ~3 dB a second) and above ``min_dbfs``. Two quiet chunks, or a sound
that the VAD never calls speech within ``max_hold_ms`` (then taken as the room's new level),
release it.

A room whose noise keeps doing that (residual echo of the reply, a fan, traffic) would make the
reply stutter: after ``strikes`` releases within ``strike_window_ms``, loudness alone holds
nothing for ``mute_ms`` (speech still does).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Literal

import numpy as np

Change = Literal["hold", "release"] | None


def level_dbfs(chunk: np.ndarray) -> float:
    """The chunk's RMS level in dB relative to full scale (int16); -120 for digital silence."""
    rms = math.sqrt(float(np.mean(np.square(chunk.astype(np.float64))))) if len(chunk) else 0.0
    return 20 * math.log10(rms / 32768.0) if rms > 0 else -120.0


class OnsetWatch:
    """Per 32 ms chunk outside a turn, says when to hold the reply and when to let it go on.

    Args:
        chunk_ms: the length of one chunk.
        rise_db: how far above the background a sound must be to hold the reply.
        min_dbfs: how loud it must be at least.
        max_hold_ms: the longest a sound the VAD never calls speech keeps the reply held.
        strikes: false holds within ``strike_window_ms`` that stop loudness alone holding.
        strike_window_ms: see ``strikes``.
        mute_ms: how long loudness alone then holds nothing.
    """

    RISE_DB_PER_S = 3.0  # how fast the background level may climb

    def __init__(
        self,
        chunk_ms: int = 32,
        *,
        rise_db: float = 20.0,
        min_dbfs: float = -50.0,
        max_hold_ms: int = 256,
        strikes: int = 3,
        strike_window_ms: int = 5000,
        mute_ms: int = 5000,
    ) -> None:
        self.rise_db, self.min_dbfs = rise_db, min_dbfs
        self._max_hold = max(1, max_hold_ms // chunk_ms)
        self._strikes, self._window = strikes, max(1, strike_window_ms // chunk_ms)
        self._mute = max(1, mute_ms // chunk_ms)
        self._climb = self.RISE_DB_PER_S * chunk_ms / 1000
        self._background: float | None = None
        self._chunk = 0  # chunks seen, the clock of this class
        self._holding = False
        self._held = self._quiet = 0
        self._spoke = False  # the VAD called a chunk of this hold speech
        self._false: deque[int] = deque()  # when each false hold was released
        self._muted_until = 0

    @property
    def holding(self) -> bool:
        """True while the reply is held."""
        return self._holding

    def step(self, level: float, speech: bool) -> Change:
        """One chunk's level (dBFS) and VAD verdict: "hold", "release" or nothing new."""
        self._chunk += 1
        heard = speech or self._sudden(level)
        if not self._holding:
            if heard:
                self._holding, self._held, self._quiet, self._spoke = True, 0, 0, speech
                return "hold"
            self._track(level)
            return None
        self._held += 1
        self._spoke = self._spoke or speech
        self._quiet = 0 if heard else self._quiet + 1
        if self._quiet >= 2:
            self._release_false()
            return "release"
        if self._held >= self._max_hold and not self._spoke:
            self._background = level  # a steady noise: the room is this loud now
            self._release_false()
            return "release"
        return None

    def turn_started(self) -> None:
        """The sound was the patient: the barge-in takes over from the hold."""
        self._holding = False

    def _sudden(self, level: float) -> bool:
        if self._chunk < self._muted_until or self._background is None:
            return False
        return level >= self.min_dbfs and level >= self._background + self.rise_db

    def _track(self, level: float) -> None:
        background = self._background
        self._background = level if background is None else min(level, background + self._climb)

    def _release_false(self) -> None:
        self._holding = False
        self._false.append(self._chunk)
        while self._false and self._false[0] <= self._chunk - self._window:
            self._false.popleft()
        if len(self._false) >= self._strikes:
            self._muted_until = self._chunk + self._mute
            self._false.clear()
