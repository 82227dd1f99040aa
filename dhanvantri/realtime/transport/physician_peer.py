"""A physician's WebRTC connection to a call this process holds (aiortc).

The physician's browser offers its microphone (send and receive audio) and a data channel named
``events``. The answer's audio is the call as the physician hears it (patient and assistant
mixed); the channel carries the transcript, the working notes and the mode. In a booked visit
(its live session has a ``video``) the offer also carries the physician's camera (send and
receive video): the answer sends them the patient's camera, and their camera replaces the avatar
on the patient's screen while they have the call (``visit_video.py``).

:class:`HeldCalls` is the physician desk's :class:`~dhanvantri.desk.call_host.CallHost` for this
process: it tells the desk which calls are held here and joins physicians to them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from dhanvantri.desk.call_host import CALL_HOST, PhysicianJoin
from dhanvantri.desk.physician_link import PhysicianLink
from dhanvantri.http.errors import Conflict, ValidationFailed
from dhanvantri.realtime.state import Runtime
from dhanvantri.realtime.transport.webrtc import EventChannel

if TYPE_CHECKING:
    from dhanvantri.realtime.transport.audio_tracks import ReplyAudioTrack
    from dhanvantri.realtime.transport.visit_video import VisitVideo

log = logging.getLogger(__name__)
RATE = 48000  # the physician's audio, both ways (Opus runs at 48 kHz)


class HeldCalls:
    """The calls in this process's registry, offered to the physician desk.

    Args:
        runtime: the realtime server's state (its registry of consultations).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def holds(self, consultation_id: str) -> bool:
        """Whether the consultation is in this process's registry."""
        return consultation_id in self.runtime.registry

    async def join(self, consultation_id: str, join: PhysicianJoin) -> dict[str, str]:
        """Join the physician to the call; returns the SDP answer (see ``CallHost.join``)."""
        live = self.runtime.registry.get(consultation_id).live
        if live is None:
            raise Conflict("the patient has not connected yet", code="NOT_CONNECTED")
        if live.physician is not None:
            raise Conflict("a physician is already on this call", code="PHYSICIAN_JOINED")
        models = self.runtime.require_models()
        peer = PhysicianPeer(self.runtime, video=live.video)
        link = PhysicianLink(live, models, physician_id=join.physician_id, name=join.name,
                             send_event=peer.send_event, on_close=peer.close, rate=RATE)
        try:
            return await peer.accept(join.sdp, link)
        except BaseException as exc:
            await peer.close()
            if isinstance(exc, ValueError):  # aiortc rejects malformed or unsupported SDP so
                raise ValidationFailed.field("sdp", f"cannot negotiate: {exc}") from exc
            raise


def install_held_calls(app: web.Application, runtime: Runtime) -> None:
    """Offer this process's calls to the physician desk (before the desk is installed)."""
    app[CALL_HOST] = HeldCalls(runtime)


class PhysicianPeer:
    """The server side of a physician's peer connection to a consultation."""

    def __init__(self, runtime: Runtime, video: VisitVideo | None = None) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection

        self.runtime = runtime
        self.video = video  # a booked visit's video (None: voice only)
        self._camera: Any = None  # the physician's camera, once it arrives
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.events = EventChannel(self.pc, on_hangup=self._hang_up)
        self.link: PhysicianLink | None = None
        self._track: ReplyAudioTrack | None = None
        self._patient_camera: Any = None
        self._closed = False
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def accept(self, sdp: str, link: PhysicianLink) -> dict[str, str]:
        """Negotiate, then join the link to the call. Returns the answer."""
        from aiortc import RTCSessionDescription

        from dhanvantri.realtime.transport.audio_tracks import ReplyAudioTrack

        self.link = link
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        if "audio" not in {t.kind for t in self.pc.getTransceivers()}:
            raise ValueError("the offer has no audio")
        self._track = ReplyAudioTrack(link, sample_rate=RATE)
        self.pc.addTrack(self._track)
        if self.video is not None and "video" in {t.kind for t in self.pc.getTransceivers()}:
            patient = self.video.for_physician()
            if patient is not None:
                self._patient_camera = patient
                self.pc.addTrack(patient)
            self.video.physician_camera(self._camera, link.name)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await link.start()
        local = self.pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    def send_event(self, event: dict[str, Any]) -> None:
        """An event for the physician's page; a mode change also decides who the patient sees."""
        if event.get("type") in ("joined", "mode") and self.video is not None:
            self.video.physician_mode(str(event.get("mode")))
        self.events.send(event)

    def _on_track(self, track: Any) -> None:
        from dhanvantri.realtime.transport.audio_tracks import consume_audio

        if track.kind == "video":
            # Announced while the offer is applied: accept() hands it to the visit.
            self._camera = track
        elif track.kind == "audio" and self.link is not None:
            link = self.link

            async def sink(samples: Any, _received_at: float) -> None:
                await link.push_audio(samples)

            self.runtime.background.spawn(consume_audio(track, sink, rate=RATE),
                               name=f"physician-audio-in-{link.live.id}")

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._hang_up()

    def _hang_up(self) -> None:
        if not self._closed and self.link is not None:
            self.runtime.background.spawn(self.link.close(),
                                          name=f"physician-leave-{self.link.live.id}")

    async def close(self) -> None:
        """Stop the audio and the peer connection (and leave the call); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self.link is not None:
            await self.link.close()
        if self.video is not None and self._camera is not None:
            self.video.physician_camera(None)  # the avatar is back on the patient's screen
        self.events.close()
        if self._track is not None:
            self._track.stop()
        if self._patient_camera is not None:
            self._patient_camera.stop()
        await self.pc.close()
