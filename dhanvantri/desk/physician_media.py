"""``POST /api/v1/escalations/{id}/webrtc``: the accepting physician joins the call (aiortc).

The physician's browser offers its microphone (send and receive audio) and a data channel
named ``events``. The answer's audio is the call as the physician hears it (patient and
assistant mixed); the channel carries the transcript, the working notes and the mode. Mode
changes (take over, hand back, leave) go through ``POST /api/v1/escalations/{id}/{command}``
and the bus, like every other step, so they are audited and reach the process holding the call.

Any process takes the physician's offer: when another process holds the consultation, the offer
goes to it over the bus and its answer comes back the same way; the media then flows directly
between the physician's browser and the process holding the call.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from dhanvantri.desk.access import DESK, ESCALATIONS, accepted_by_me, actor, physician
from dhanvantri.desk.desk import PhysicianDesk
from dhanvantri.desk.physician_link import PhysicianLink
from dhanvantri.http.endpoint import parse_body
from dhanvantri.http.errors import ApiError, Conflict, NotFound, ValidationFailed
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.realtime.state import RUNTIME, Runtime
from dhanvantri.realtime.transport.audio_tracks import ReplyAudioTrack, consume_audio
from dhanvantri.realtime.transport.webrtc import EventChannel, SdpOffer

log = logging.getLogger(__name__)
RATE = 48000


class HolderUnavailable(ApiError):
    """The process holding the call did not answer the join in time."""

    status = 504
    code = "holder_unavailable"


async def physician_webrtc(request: web.Request) -> web.Response:
    """Accept the physician's SDP offer for the consultation of an escalation they accepted."""
    principal = physician(request)
    desk = request.app[DESK]
    escalation = await accepted_by_me(request, principal)
    offer = await parse_body(request, SdpOffer)
    join = {"type": "join", "sdp": offer.sdp, "physician_id": str(principal.user_id),
            "name": await _name(request, principal.user_id)}
    cid = escalation.consultation_id
    runtime = request.app.get(RUNTIME)
    if runtime is not None and cid in runtime.registry:
        answer = await join_here(runtime, cid, join)
    else:
        answer = await _join_elsewhere(desk, cid, join)
    await desk.escalations.record(actor(request, principal), "escalation_joined", escalation,
                                  {"mode": "listen"})
    return web.json_response(answer)


async def _join_elsewhere(desk: PhysicianDesk, cid: str, join: dict[str, Any]
                          ) -> dict[str, Any]:
    """Signal over the bus; the media then flows between the browser and the holder."""
    try:
        reply = await desk.request(cid, join)
    except LookupError as exc:
        raise NotFound("the consultation has ended", code="not_live") from exc
    except TimeoutError as exc:
        raise HolderUnavailable("the server holding the call did not answer") from exc
    error = reply.get("error")
    if isinstance(error, dict):
        raised = ApiError(str(error.get("message")), code=str(error.get("code")),
                               details=error.get("details"))
        raised.status = int(error.get("status") or 502)
        raise raised
    return reply


async def join_here(runtime: Runtime, cid: str, join: dict[str, Any]) -> dict[str, str]:
    """Join a physician to a call this process holds; returns the SDP answer."""
    consultation = runtime.registry.get(cid)
    live = consultation.live
    if live is None:
        raise Conflict("the patient has not connected yet", code="not_live")
    if live.physician is not None:
        raise Conflict("a physician is already on this call", code="physician_joined")
    peer = PhysicianPeer(runtime)
    link = PhysicianLink(live, runtime.require_models(), physician_id=str(join["physician_id"]),
                         name=str(join.get("name") or ""), send_event=peer.events.send,
                         on_close=peer.close, rate=RATE)
    try:
        return await peer.accept(str(join["sdp"]), link)
    except BaseException as exc:
        await peer.close()
        if isinstance(exc, ValueError):
            raise ValidationFailed.field("sdp", f"cannot negotiate: {exc}") from exc
        raise


def install_joins(app: web.Application, desk: PhysicianDesk) -> None:
    """Let physicians join calls: the route, and (where calls are held) the desk's joiner."""
    app.router.add_post(ESCALATIONS + "/{id}/webrtc", physician_webrtc)
    runtime = app.get(RUNTIME)
    if runtime is not None:
        desk.joiner = lambda cid, join: join_here(runtime, cid, join)


async def _name(request: web.Request, user_id: Any) -> str:
    """The physician's name as the patient is told it ("" when unknown)."""
    services = request.app.get(SERVICES)
    if services is None:
        return ""
    async with services.uow() as uow:
        user = await uow.users.get(user_id)
    return user.full_name if user is not None else ""


class PhysicianPeer:
    """The server side of a physician's peer connection to a consultation."""

    def __init__(self, runtime: Runtime) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection

        self.runtime = runtime
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.events = EventChannel(self.pc, on_hangup=self._hang_up)
        self.link: PhysicianLink | None = None
        self._track: ReplyAudioTrack | None = None
        self._closed = False
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def accept(self, sdp: str, link: PhysicianLink) -> dict[str, str]:
        """Negotiate, then join the link to the call. Returns the answer."""
        from aiortc import RTCSessionDescription

        self.link = link
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        if "audio" not in {t.kind for t in self.pc.getTransceivers()}:
            raise ValueError("the offer has no audio")
        self._track = ReplyAudioTrack(link, sample_rate=RATE)
        self.pc.addTrack(self._track)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await link.start()
        local = self.pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    def _on_track(self, track: Any) -> None:
        if track.kind == "audio" and self.link is not None:
            link = self.link

            async def sink(samples: Any, _received_at: float) -> None:
                await link.push_audio(samples)

            self.runtime.spawn(consume_audio(track, sink, rate=RATE),
                               name=f"physician-audio-in-{link.live.id}")

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._hang_up()

    def _hang_up(self) -> None:
        if not self._closed and self.link is not None:
            self.runtime.spawn(self.link.close(), name=f"physician-leave-{self.link.live.id}")

    async def close(self) -> None:
        """Stop the audio and the peer connection (and leave the call); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self.link is not None:
            await self.link.close()
        self.events.close()
        if self._track is not None:
            self._track.stop()
        await self.pc.close()
