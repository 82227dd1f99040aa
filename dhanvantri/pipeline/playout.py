"""Reply audio waiting to be played, pulled in 20 ms frames at the transport's pace.

Text-to-speech runs many times faster than real time, so reply audio piles up here and the
transport (a WebRTC track, a WebSocket sender) pulls one frame per tick. Barge-in clears it at
once: audio that was never pulled is never heard. While the patient may be starting to speak the
buffer is held (pulls return nothing, the audio waits): released, it plays on where it stopped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np


class PlayoutBuffer:
    """A FIFO of int16 mono samples at one sample rate, cleared on barge-in.

    Args:
        sample_rate: rate of everything pushed and pulled.
        on_started: called when a pull first returns reply audio after silence.
        on_stopped: called when the buffer runs dry or is cleared after playing.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        on_started: Callable[[], None] | None = None,
        on_stopped: Callable[[], None] | None = None,
        on_marker: Callable[[object], None] | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self._chunks: deque[np.ndarray] = deque()
        self._markers: deque[object] = deque()  # one per chunk; None for unmarked chunks
        self.on_marker = on_marker
        self._queued = 0
        self._playing = False
        self.on_started = on_started
        self.on_stopped = on_stopped
        self.cleared_at: float | None = None
        self.samples_played = 0
        self._held = False

    @property
    def queued_samples(self) -> int:
        """Samples waiting to be played."""
        return self._queued

    @property
    def playing(self) -> bool:
        """True while reply audio is being pulled."""
        return self._playing

    def push(self, audio: np.ndarray, marker: object = None) -> None:
        """Queue reply audio (int16 mono at ``sample_rate``).

        ``on_marker(marker)`` is called when this chunk's first sample is pulled, so lip sync can
        start exactly when its audio starts playing.
        """
        if len(audio):
            self._chunks.append(audio)
            self._markers.append(marker)
            self._queued += len(audio)

    @property
    def held(self) -> bool:
        """True while :meth:`hold` keeps the audio back."""
        return self._held

    def hold(self) -> None:
        """Play nothing until :meth:`release` or :meth:`clear`; the audio waits.

        The playing state does not change: the reply is paused, not over.
        """
        self._held = True

    def release(self) -> None:
        """Play on from where :meth:`hold` stopped."""
        self._held = False

    def clear(self) -> None:
        """Drop everything not yet played (barge-in); a hold ends with it."""
        self._chunks.clear()
        self._markers.clear()
        self._queued = 0
        self._held = False
        self.cleared_at = time.monotonic()
        self._set_playing(False)

    def pull(self, samples: int) -> np.ndarray | None:
        """The next ``samples`` of reply audio, zero-padded at the end, or None when empty or
        held."""
        if self._held:
            return None
        if not self._queued:
            self._set_playing(False)
            return None
        out = np.zeros(samples, dtype=np.int16)
        filled = 0
        while filled < samples and self._chunks:
            chunk = self._chunks[0]
            marker, self._markers[0] = self._markers[0], None
            if marker is not None and self.on_marker is not None:
                self.on_marker(marker)
            take = min(samples - filled, len(chunk))
            out[filled : filled + take] = chunk[:take]
            filled += take
            if take == len(chunk):
                self._chunks.popleft()
                self._markers.popleft()
            else:
                self._chunks[0] = chunk[take:]
        self._queued -= filled
        self.samples_played += filled
        self._set_playing(True)
        return out

    def _set_playing(self, playing: bool) -> None:
        if playing == self._playing:
            return
        self._playing = playing
        callback = self.on_started if playing else self.on_stopped
        if callback is not None:
            callback()


class LiveFeed(PlayoutBuffer):
    """Live audio from another person on the call (a physician), at most ``max_ms`` behind.

    Its producer and consumer run on different clocks (two browsers); when the producer runs
    ahead, the oldest audio is dropped so the delay cannot build up.
    """

    def __init__(self, sample_rate: int, max_ms: int = 200) -> None:
        super().__init__(sample_rate)
        self.max_samples = sample_rate * max_ms // 1000

    def push(self, audio: np.ndarray, marker: object = None) -> None:
        super().push(audio, marker)
        while self._queued > self.max_samples and len(self._chunks) > 1:
            self._queued -= len(self._chunks.popleft())
            self._markers.popleft()


def mix(parts: list[np.ndarray | None]) -> np.ndarray | None:
    """The sum of equal-length int16 frames (clipped), or None when every part is None."""
    present = [p for p in parts if p is not None]
    if len(present) <= 1:
        return present[0] if present else None
    total = np.sum([p.astype(np.int32) for p in present], axis=0)
    return np.clip(total, -32768, 32767).astype(np.int16)
