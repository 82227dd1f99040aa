"""The video of one booked visit: the patient's camera to the physician, theirs to the patient.

The patient's peer creates a :class:`VisitVideo` when the consultation is an appointment's visit
and the browser offers video; the live session keeps it (``LiveSession.video``), and the
physician's peer finds it there when they join. No new peer connection or signalling: the
patient's camera reaches the physician through a :class:`~aiortc.contrib.media.MediaRelay`, and
the physician's camera reaches the patient through the :class:`~.visit_screen.VisitScreen` that
already carries the avatar.

Who is on screen follows who has the call: the physician's camera while they have taken it over,
the avatar while the assistant speaks (before the take-over, after a hand-back, once they left).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import av
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from dhanvantri.realtime.transport.visit_screen import Source, VisitScreen

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]
EventSink = Callable[[dict[str, Any]], None]


class _Watched(MediaStreamTrack):
    """A relay's copy of the patient's camera that notes its first frame delivered."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack, on_frame: Callable[[], None]) -> None:
        super().__init__()
        self._source: MediaStreamTrack | None = source
        self._on_frame = on_frame

    async def recv(self) -> av.VideoFrame:
        source = self._source
        if source is None or self.readyState != "live":
            raise MediaStreamError
        frame: av.VideoFrame = await source.recv()
        self._on_frame()
        return frame

    def stop(self) -> None:
        super().stop()
        if self._source is not None:
            self._source.stop()  # the relay forgets this consumer
        self._source = None


class VisitVideo:
    """Who sees whom in one visit.

    Args:
        avatar: the avatar's track; :attr:`screen` (the patient's outbound video) shows it
            while the physician's camera is not shown.
        send_event: the consultation's event sink; told ``{"type": "video", "source": ...}``
            when the patient's screen changes source (with ``name`` for the physician).
        spawn: runs a task for the life of the consultation (the live session's).
    """

    def __init__(self, avatar: Any, send_event: EventSink, spawn: Spawn) -> None:
        self.screen = VisitScreen(avatar, on_switch=self._on_switch)
        self._send_event = send_event
        self._spawn = spawn
        self._relay = MediaRelay()
        self._patient_camera: MediaStreamTrack | None = None
        self._physician_camera: MediaStreamTrack | None = None
        self._physician_name = ""
        self._on_call = False
        self.patient_frames_sent = 0  # to a physician

    # ------------------------------------------------------------------ the patient's camera
    def patient_camera(self, track: MediaStreamTrack) -> None:
        """The patient's camera arrived; it is read from now on (frames nobody reads would
        pile up in the receiver), and handed to a physician who joins."""
        self._patient_camera = track
        keeper = self._relay.subscribe(track, buffered=False)
        self._spawn(drain(keeper))

    def for_physician(self) -> MediaStreamTrack | None:
        """A copy of the patient's camera for a physician's peer (None: no camera)."""
        if self._patient_camera is None:
            return None
        copy = self._relay.subscribe(self._patient_camera, buffered=False)
        return _Watched(copy, self._patient_frame_sent)

    def _patient_frame_sent(self) -> None:
        self.patient_frames_sent += 1

    # ------------------------------------------------------------------ the physician
    def physician_camera(self, track: MediaStreamTrack | None, name: str = "") -> None:
        """The physician's camera (None: they left, or sent none).

        It is read from now on, shown or not: frames nobody reads would pile up, and the patient
        would first be shown the backlog when the physician takes the call. The screen reads
        the latest frame only.
        """
        self._physician_name = name or self._physician_name
        if self._physician_camera is not None:
            self._physician_camera.stop()  # the relay forgets it
        self._physician_camera = None
        if track is not None:
            self._physician_camera = self._relay.subscribe(track, buffered=False)
            self._spawn(drain(self._relay.subscribe(track, buffered=False)))
        self._update()

    def physician_mode(self, mode: str) -> None:
        """The physician's mode changed: their camera is shown while they have the call."""
        self._on_call = mode == "takeover"
        self._update()

    def _update(self) -> None:
        shown = self._physician_camera if self._on_call else None
        self.screen.show(shown)

    def _on_switch(self, source: Source) -> None:
        event: dict[str, Any] = {"type": "video", "source": source}
        if source == "physician":
            event["name"] = self._physician_name
        self._send_event(event)

    # ------------------------------------------------------------------ the record
    @property
    def mode(self) -> str:
        """``"video"`` once video flowed both ways (the patient saw the physician, and the
        physician the patient), else ``"audio"``."""
        both = self.screen.physician_frames > 0 and self.patient_frames_sent > 0
        return "video" if both else "audio"


async def drain(track: MediaStreamTrack) -> None:
    """Read ``track`` until it ends, keeping nothing (unread frames pile up in aiortc)."""
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        return
    finally:
        track.stop()
