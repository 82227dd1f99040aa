"""What the patient sees in a booked visit: the avatar, or the physician's camera.

The patient's peer connection has one outbound video transceiver. Switching what it carries by
renegotiating would cost a round trip through the browser for every hand-over, so the switch
happens inside the track: :class:`VisitScreen` relays the physician's camera while it is shown and
arriving, and the avatar's frames otherwise. Every frame is stamped on the screen's own clock, so
the receiver sees one stream whose timestamps only rise, whichever source drew the frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import av
from aiortc import VideoStreamTrack
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError

log = logging.getLogger(__name__)

Source = Literal["avatar", "physician"]
# How long a shown camera may stay silent before the avatar fills in: a browser sends at least
# a few frames a second even from a still scene, so a longer gap is a stalled or frozen camera,
# and the patient should see a face that moves with the voice rather than a frozen picture.
CAMERA_STALL_S = 1.0


class VisitScreen(VideoStreamTrack):
    """The patient's video in a visit: the physician's camera while shown, else the avatar.

    Args:
        avatar: the avatar's track (an :class:`~.avatar_track.AvatarVideoTrack`); it is read
            only while the avatar is on screen, and stopped with this track.
        on_switch: told the source (``"avatar"`` or ``"physician"``) each time the frames sent
            change source, with the first frame of the new one.
    """

    kind = "video"

    def __init__(self, avatar: Any, on_switch: Callable[[Source], None] | None = None) -> None:
        super().__init__()
        self._avatar: Any = avatar
        self._camera: Any = None
        self._on_switch = on_switch
        self._source: Source | None = None
        self._start: float | None = None
        self._pts = -1
        self.physician_frames = 0  # sent to the patient: "video both ways" reads it

    @property
    def renderer(self) -> Any:
        """The avatar's renderer (its badge says who is on the call)."""
        return self._avatar.renderer if self._avatar is not None else None

    @property
    def source(self) -> Source | None:
        """Where the last frame came from (None before the first)."""
        return self._source

    def show(self, camera: Any) -> None:
        """Relay ``camera`` (a video track) from its next frame on; None brings the avatar back."""
        self._camera = camera

    async def recv(self) -> av.VideoFrame:
        """The next frame: the shown camera's when one comes in time, else the avatar's."""
        if self.readyState != "live":
            raise MediaStreamError
        camera = self._camera
        if camera is not None:
            frame = await self._from_camera(camera)
            if frame is not None:
                self.physician_frames += 1
                return self._stamp(frame, "physician")
        avatar = self._avatar
        if avatar is None:
            raise MediaStreamError
        if self._source == "physician":
            # The avatar was not read while the camera was shown: its clock would otherwise
            # make it send the missed frames in one burst.
            avatar.resync()
        frame = await avatar.recv()
        if self.readyState != "live":  # stopped while the avatar waited for its tick
            raise MediaStreamError
        return self._stamp(frame, "avatar")

    async def _from_camera(self, camera: Any) -> av.VideoFrame | None:
        try:
            async with asyncio.timeout(CAMERA_STALL_S):
                frame: av.VideoFrame = await camera.recv()
                return frame
        except MediaStreamError:
            if self._camera is camera:  # the camera ended: the avatar comes back for good
                self._camera = None
        except TimeoutError:
            pass
        return None

    def _stamp(self, frame: av.VideoFrame, source: Source) -> av.VideoFrame:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        # The sources' own timestamps start anywhere: the receiver gets this track's clock.
        self._pts = max(self._pts + 1, int((now - self._start) * VIDEO_CLOCK_RATE))
        frame.pts, frame.time_base = self._pts, VIDEO_TIME_BASE
        if source != self._source:
            self._source = source
            log.info("visit video: %s on screen", source)
            if self._on_switch is not None:
                self._on_switch(source)
        return frame

    def stop(self) -> None:
        """End the track; the avatar stops with it, the camera is let go (its peer ends it)."""
        super().stop()
        if self._avatar is not None:
            self._avatar.stop()
        self._avatar = None
        self._camera = None
        self._on_switch = None
