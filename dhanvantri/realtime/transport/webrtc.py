"""``POST /api/v1/consultations/{id}/webrtc``: join a consultation over WebRTC (aiortc).

The browser's offer carries its microphone, a receive-only video transceiver for the avatar and
a data channel named ``events``. The answer adds the reply audio track and, when the avatar
module is installed, its video track. In an appointment's visit the browser sends its camera on
that transceiver too, and the video track is the visit's screen (``visit_video.py``): the avatar
until the booked physician takes the call on camera. No STUN or TURN server is configured: the
server is reached on its own addresses, and nothing is sent to a public service.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from dhanvantri.http.endpoint import parse_body
from dhanvantri.http.errors import ValidationFailed
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime.access import check_access
from dhanvantri.realtime.consultations import Consultation
from dhanvantri.realtime.live import LiveSession
from dhanvantri.realtime.state import RUNTIME, Runtime

log = logging.getLogger(__name__)
MAX_PENDING_EVENTS = 256  # events held until the data channel opens
OUTPUT_RATE = 48000  # Opus runs at 48 kHz: reply audio is made at that rate, never resampled


class SdpOffer(BaseModel):
    """The browser's session description."""

    sdp: str = Field(min_length=1, max_length=65536)
    type: Literal["offer"]


async def webrtc_offer(request: web.Request) -> web.Response:
    """Accept an SDP offer for a consultation and return the answer."""
    runtime = request.app[RUNTIME]
    models = runtime.require_models()
    consultation = runtime.registry.get(request.match_info["id"])
    check_access(request, consultation)
    offer = await parse_body(request, SdpOffer)
    consultation.claim("webrtc")  # 409 ALREADY_JOINED: the live session is untouched
    peer: WebRtcPeer | None = None
    try:
        peer = WebRtcPeer(consultation, runtime, models)
        answer = await peer.accept(offer.sdp)
    except BaseException as exc:
        # A failed start ends the consultation: its slot comes back at once (the page starts
        # a new one for its WebSocket fallback).
        await runtime.registry.close(consultation.id)
        if peer is not None:
            await peer.close()
        if isinstance(exc, ValueError):  # aiortc rejects malformed or unsupported SDP so
            raise ValidationFailed.field("sdp", f"cannot negotiate: {exc}") from exc
        raise
    return web.json_response(answer)


class WebRtcPeer:
    """The server side of one consultation's peer connection, with its live session."""

    def __init__(self, consultation: Consultation, runtime: Runtime, models: VoiceModels
                 ) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection

        self.consultation = consultation
        self.runtime = runtime
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.events = EventChannel(self.pc, on_hangup=self._hang_up)
        self.live = LiveSession(models, consultation.id, OUTPUT_RATE, self.events.send,
                                runtime.metrics, on_event=runtime.on_event)
        self._tracks: list[Any] = []
        self._camera: Any = None
        self._closed = False
        self.joined = False
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def accept(self, sdp: str) -> dict[str, str]:
        """Negotiate; join the consultation; start the pipeline. Returns the answer."""
        from aiortc import RTCSessionDescription

        from dhanvantri.realtime.transport.audio_tracks import ReplyAudioTrack

        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        kinds = {t.kind for t in self.pc.getTransceivers()}
        if "audio" not in kinds:
            raise ValueError("the offer has no audio")
        self._add(ReplyAudioTrack(self.live.output))
        if "video" in kinds:
            video = avatar_track(self.live.output)
            if video is not None:
                if self.consultation.visit is not None:
                    video = self._visit_video(video)
                self._add(video)
                self.live.attach_badge(video.renderer)  # a joining physician is shown here
        if self._camera is not None:  # no visit took it: nobody watches it
            from dhanvantri.realtime.transport.visit_video import drain

            self.runtime.background.spawn(drain(self._camera),
                                          name=f"webrtc-video-in-{self.consultation.id}")
            self._camera = None
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        self.consultation.join("webrtc", self.close, live=self.live)
        self.joined = True
        await self.live.start()
        self.runtime.metrics.sessions_active.labels(transport="webrtc").inc()
        self.runtime.metrics.sessions_total.labels(transport="webrtc").inc()
        log.info("consultation %s joined over WebRTC", self.consultation.id)
        local = self.pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    def _visit_video(self, avatar: Any) -> Any:
        """A booked visit: the avatar steps aside for the physician's camera, and the patient's
        camera (if they sent it) is kept for the physician."""
        from dhanvantri.realtime.transport.visit_video import VisitVideo

        visit = VisitVideo(avatar, self.live.send_event, self.live.spawn)
        self.live.video = visit
        if self._camera is not None:
            visit.patient_camera(self._camera)
            self._camera = None
        return visit.screen

    def _add(self, track: Any) -> None:
        self._tracks.append(track)
        self.pc.addTrack(track)

    def send_event(self, event: dict[str, Any]) -> None:
        """Send a JSON event on the ``events`` channel (held until it opens)."""
        self.events.send(event)

    def _on_track(self, track: Any) -> None:
        from dhanvantri.realtime.transport.audio_tracks import consume_audio

        if track.kind == "audio":
            self.runtime.background.spawn(consume_audio(track, self.live.push_audio),
                               name=f"webrtc-audio-in-{self.consultation.id}")
        elif track.kind == "video":
            # The patient's camera (a visit): negotiation announces it before the answer's
            # tracks exist, so it waits here for accept() to hand it on.
            self._camera = track

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        log.info("consultation %s: WebRTC %s", self.consultation.id, state)
        if state in ("failed", "closed"):
            self._hang_up()

    def _hang_up(self) -> None:
        if not self._closed:
            self.runtime.background.spawn(self.runtime.registry.close(self.consultation.id),
                               name=f"webrtc-close-{self.consultation.id}")

    async def close(self) -> None:
        """Stop the tracks, the pipeline and the peer connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self.live.started:
            self.runtime.metrics.sessions_active.labels(transport="webrtc").dec()
        self.events.close()
        for track in self._tracks:
            track.stop()
        self._tracks.clear()
        await self.live.close()
        await self.pc.close()  # also ends the remote track, so the inbound reader returns


class EventChannel:
    """JSON events both ways on a peer connection's data channel named ``events``.

    Events sent before the browser's channel opens are held (up to ``MAX_PENDING_EVENTS``).

    Args:
        pc: the peer connection (its ``datachannel`` event is taken here).
        on_hangup: called when the browser sends ``{"type": "hangup"}``.
        on_message: called with every other JSON object the browser sends.
    """

    def __init__(self, pc: Any, *, on_hangup: Callable[[], None],
                 on_message: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._channel: Any = None
        self._pending: deque[str] = deque(maxlen=MAX_PENDING_EVENTS)
        self._closed = False
        self.on_hangup = on_hangup
        self.on_message = on_message
        pc.on("datachannel", self._on_datachannel)

    def send(self, event: dict[str, Any]) -> None:
        """Send one event now, or hold it until the channel opens."""
        text = json.dumps(event)
        channel = self._channel
        if channel is not None and channel.readyState == "open":
            channel.send(text)
        elif not self._closed:
            self._pending.append(text)

    def close(self) -> None:
        """Drop held events; later ones are not kept."""
        self._closed = True
        self._pending.clear()
        self._channel = None

    def _on_datachannel(self, channel: Any) -> None:
        if channel.label != "events":
            return
        self._channel = channel
        channel.on("message", self._on_message)
        channel.on("open", self._flush)
        if channel.readyState == "open":
            self._flush()

    def _flush(self) -> None:
        while self._pending and self._channel is not None:
            self._channel.send(self._pending.popleft())

    def _on_message(self, message: Any) -> None:
        try:
            data = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return
        if data.get("type") == "hangup":
            self.on_hangup()
        elif self.on_message is not None:
            self.on_message(data)


def avatar_track(output: Any) -> Any:
    """The avatar's video track, or None when that module is not installed."""
    try:
        from dhanvantri.realtime.transport.avatar_track import AvatarVideoTrack
    except ImportError as exc:
        log.warning("avatar video unavailable (%s); sending audio only", exc)
        return None
    return AvatarVideoTrack(output)
