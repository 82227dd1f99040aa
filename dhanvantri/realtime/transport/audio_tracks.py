"""Audio in and out of a WebRTC peer connection.

Outbound: :class:`ReplyAudioTrack` plays the pipeline's reply audio, one 20 ms frame per tick on
its own clock (silence between replies, so the browser's jitter buffer stays primed).
Inbound: :func:`consume_audio` turns the patient's Opus frames (48 kHz stereo after decoding)
into 16 kHz mono int16 for the pipeline.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import av
import numpy as np
from aiortc import AudioStreamTrack
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

FRAME_SECONDS = 0.020
OUTPUT_RATE = 48000

AudioSink = Callable[[np.ndarray, float], Awaitable[None]]


class AudioSource(Protocol):
    """What a listener hears: a :class:`ClientOutput`, or a physician's mix of the call."""

    def next_audio(self, samples: int) -> np.ndarray: ...


class ReplyAudioTrack(AudioStreamTrack):
    """Audio from an :class:`AudioSource`, 48 kHz mono s16, paced at 20 ms.

    Args:
        output: the source; ``next_audio`` gives silence when nothing is queued.
        sample_rate: the source's rate.
    """

    kind = "audio"

    def __init__(self, output: AudioSource, sample_rate: int = OUTPUT_RATE) -> None:
        super().__init__()
        self._output: AudioSource | None = output
        self.sample_rate = sample_rate
        self.samples_per_frame = int(sample_rate * FRAME_SECONDS)
        self._time_base = fractions.Fraction(1, sample_rate)
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms frame, waiting until its play-out time."""
        if self.readyState != "live" or self._output is None:
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += self.samples_per_frame
            wait = self._start + self._pts / self.sample_rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.5:
                # Far behind (the loop stalled): restart the clock instead of bursting frames.
                self._start = time.monotonic() - self._pts / self.sample_rate
        output = self._output
        if output is None:  # stopped while we slept
            raise MediaStreamError
        samples = output.next_audio(self.samples_per_frame)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        frame.time_base = self._time_base
        return frame

    def stop(self) -> None:
        """End the track and drop the reference to the session's output."""
        super().stop()
        self._output = None


async def consume_audio(track: MediaStreamTrack, sink: AudioSink, rate: int = 16000) -> None:
    """Read ``track`` until it ends, handing int16 mono ``rate`` Hz chunks to ``sink``.

    Args:
        track: the remote audio track.
        sink: ``await sink(samples, received_at)`` for every decoded frame.
        rate: the pipeline's input rate.
    """
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        received_at = time.monotonic()
        for out in resampler.resample(frame):
            samples = out.to_ndarray().reshape(-1).astype(np.int16, copy=True)
            if len(samples):
                await sink(samples, received_at)
