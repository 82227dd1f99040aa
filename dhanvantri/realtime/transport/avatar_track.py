"""The avatar as a WebRTC video track, lip-synced to the reply audio of one consultation."""

from __future__ import annotations

import asyncio
import fractions
import time

import av
from aiortc import VideoStreamTrack
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError

from dhanvantri.avatar.renderer import AvatarRenderer, Timeline
from dhanvantri.pipeline.output import ClientOutput


class AvatarVideoTrack(VideoStreamTrack):
    """Sends avatar frames at the renderer's frame rate.

    The track is one of the output's viseme listeners: the output calls it the moment a piece
    of reply audio starts playing, so the mouth starts moving with the sound.

    Args:
        output: the consultation's client output (its reply audio drives the mouth).
        renderer: the face to draw; by default one of ``avatar_size`` pixels square at
            ``avatar_fps`` from the process settings (256 at 15 fps).
    """

    kind = "video"

    def __init__(self, output: ClientOutput, renderer: AvatarRenderer | None = None) -> None:
        super().__init__()
        self._output: ClientOutput | None = output
        self._renderer: AvatarRenderer | None = renderer or _default_renderer()
        self._step = int(VIDEO_CLOCK_RATE / self._renderer.fps)
        self._start: float | None = None
        self._timestamp = 0
        output.add_viseme_listener(self._on_visemes)

    @property
    def renderer(self) -> AvatarRenderer | None:
        """The face being drawn (None once stopped); ``renderer.set_badge`` shows a banner."""
        return self._renderer

    def _on_visemes(self, timeline: Timeline) -> None:
        if self._renderer is not None:
            self._renderer.speak(timeline, started_at=time.monotonic())

    def resync(self) -> None:
        """Take up the clock from now (after a pause in reading: no burst of missed frames)."""
        if self._start is not None:
            self._start = time.monotonic() - self._timestamp / VIDEO_CLOCK_RATE

    async def next_timestamp(self) -> tuple[int, fractions.Fraction]:
        """Wait for the next frame's time on this track's own clock; its pts and time base."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._timestamp += self._step
            wait = self._start + self._timestamp / VIDEO_CLOCK_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        return self._timestamp, VIDEO_TIME_BASE

    async def recv(self) -> av.VideoFrame:
        """The next avatar frame, paced at the renderer's frame rate."""
        pts, time_base = await self.next_timestamp()
        renderer = self._renderer
        if renderer is None or self.readyState != "live":  # stopped while waiting
            raise MediaStreamError
        frame = av.VideoFrame.from_ndarray(renderer.frame(at=time.monotonic()), format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame

    def stop(self) -> None:
        """End the track and let go of the output and renderer."""
        super().stop()
        if self._output is not None:
            self._output.remove_viseme_listener(self._on_visemes)
        self._output = None
        self._renderer = None


def _default_renderer() -> AvatarRenderer:
    from dhanvantri.settings import get_settings

    settings = get_settings()
    return AvatarRenderer(settings.avatar_size, settings.avatar_size, settings.avatar_fps)
