"""A booked visit's video: the avatar steps aside for the physician's camera and comes back, and
the physician sees the patient's camera. Real aiortc objects: first the tracks alone, then over
two pairs of loopback peer connections (the patient's and the physician's), frames compared by
colour after the codec."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError

from dhanvantri.avatar.renderer import AvatarRenderer
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.realtime.transport.avatar_track import AvatarVideoTrack
from dhanvantri.realtime.transport.visit_video import VisitVideo
from tests.support.ice import offer_loopback
from tests.support.waiting import wait_until_async

GREEN = (40, 200, 60)  # the physician's camera
MAGENTA = (200, 40, 180)  # the patient's camera


@pytest.fixture(autouse=True)
def loopback_ice() -> Iterator[None]:
    undo = offer_loopback()
    yield
    undo()


class SolidCamera(VideoStreamTrack):
    """A camera that films one colour, at the default 30 fps."""

    kind = "video"

    def __init__(self, colour: tuple[int, int, int], size: tuple[int, int] = (160, 120)) -> None:
        super().__init__()
        self.picture = np.zeros((size[1], size[0], 3), np.uint8)
        self.picture[:] = colour

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self.picture, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def colour(frame: av.VideoFrame) -> tuple[int, int, int]:
    """The frame's mean colour."""
    mean = frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    return (int(mean[0]), int(mean[1]), int(mean[2]))


def near(seen: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 30) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(seen, expected, strict=True))


class Visit:
    """A visit's video with its events, the avatar drawn small so the tests stay quick."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.tasks: list[asyncio.Task[Any]] = []
        avatar = AvatarVideoTrack(ClientOutput(48000, lambda event: None),
                                  AvatarRenderer(96, 96, 15, seed=1))
        self.video = VisitVideo(avatar, self.events.append, self._spawn)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task

    def sources(self) -> list[str]:
        return [e["source"] for e in self.events if e["type"] == "video"]

    async def close(self) -> None:
        self.video.screen.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_the_screen_shows_the_avatar_then_the_physician_on_the_call_then_the_avatar() -> None:
    visit = Visit()
    screen, video = visit.video.screen, visit.video
    camera = SolidCamera(GREEN)
    try:
        first = await screen.recv()
        assert (first.width, first.height) == (96, 96) and visit.sources() == ["avatar"]

        video.physician_camera(camera, "Dr Asha Rao")  # joined, listening: still the avatar
        video.physician_mode("listen")
        assert (await screen.recv()).width == 96

        video.physician_mode("takeover")
        shown = [await screen.recv() for _ in range(3)]
        assert all(near(colour(f), GREEN, 2) for f in shown)
        assert visit.events[-1] == {"type": "video", "source": "physician", "name": "Dr Asha Rao"}

        video.physician_mode("listen")  # handed back: the assistant's face again
        back = await screen.recv()
        assert back.width == 96 and not near(colour(back), GREEN)
        assert visit.sources() == ["avatar", "physician", "avatar"]

        video.physician_mode("takeover")
        assert near(colour(await screen.recv()), GREEN, 2)
        camera.stop()  # the physician's camera ends: the avatar fills in
        after = [(await screen.recv()).width for _ in range(3)]
        assert after[-1] == 96 and visit.sources()[-1] == "avatar"
        pts = [f.pts for f in [first, *shown, back]]
        assert pts == sorted(pts) and len(set(pts)) == len(pts)  # one clock across sources
        assert video.mode == "audio"  # the physician saw no patient camera
    finally:
        await visit.close()
    with pytest.raises(MediaStreamError):
        await screen.recv()


async def connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


class Receiver:
    """Keeps the mean colour of every frame a remote video track delivers."""

    def __init__(self) -> None:
        self.colours: list[tuple[int, int, int]] = []
        self.task: asyncio.Task[None] | None = None

    def take(self, track: Any) -> None:
        if track.kind == "video":
            self.task = asyncio.get_running_loop().create_task(self._read(track))

    async def _read(self, track: Any) -> None:
        try:
            while True:
                self.colours.append(colour(await track.recv()))
        except MediaStreamError:
            return

    async def until(self, expected: tuple[int, int, int] | None, what: str) -> None:
        """Wait for the latest frame to be ``expected`` (None: anything but green)."""
        def latest() -> bool:
            if not self.colours:
                return False
            seen = self.colours[-1]
            return near(seen, expected) if expected else not near(seen, GREEN)

        await wait_until_async(latest, 30, what=what)


async def test_over_peer_connections_both_sides_see_each_other() -> None:
    config = RTCConfiguration(iceServers=[])
    visit = Visit()
    video = visit.video
    # The patient's browser sends its camera and receives the screen.
    patient, patient_server = RTCPeerConnection(config), RTCPeerConnection(config)
    patient_sees = Receiver()
    patient.on("track", patient_sees.take)
    patient.addTrack(SolidCamera(MAGENTA))
    patient_server.on("track", lambda track: video.patient_camera(track))
    # The physician's browser sends theirs and receives the patient's.
    physician, physician_server = RTCPeerConnection(config), RTCPeerConnection(config)
    physician_sees = Receiver()
    physician.on("track", physician_sees.take)
    physician.addTrack(SolidCamera(GREEN))
    cameras: list[Any] = []
    physician_server.on("track", cameras.append)
    try:
        await patient.setLocalDescription(await patient.createOffer())
        await patient_server.setRemoteDescription(patient.localDescription)
        patient_server.addTrack(video.screen)
        await patient_server.setLocalDescription(await patient_server.createAnswer())
        await patient.setRemoteDescription(patient_server.localDescription)
        await patient_sees.until(None, "the avatar on the patient's screen")
        assert visit.sources() == ["avatar"]

        await physician.setLocalDescription(await physician.createOffer())
        await physician_server.setRemoteDescription(physician.localDescription)
        copy = video.for_physician()
        assert copy is not None
        physician_server.addTrack(copy)
        await physician_server.setLocalDescription(await physician_server.createAnswer())
        await physician.setRemoteDescription(physician_server.localDescription)
        await physician_sees.until(MAGENTA, "the patient's camera on the physician's screen")

        video.physician_camera(cameras[0], "Dr Asha Rao")
        video.physician_mode("takeover")
        await patient_sees.until(GREEN, "the physician on the patient's screen")
        assert visit.sources() == ["avatar", "physician"]
        assert video.mode == "video"

        video.physician_camera(None)  # the physician left
        await patient_sees.until(None, "the avatar back on the patient's screen")
        assert visit.sources() == ["avatar", "physician", "avatar"]
    finally:
        for pc in (patient, patient_server, physician, physician_server):
            await pc.close()
        for receiver in (patient_sees, physician_sees):
            if receiver.task is not None:
                receiver.task.cancel()
                await asyncio.gather(receiver.task, return_exceptions=True)
        await visit.close()
