"""``POST /api/v1/escalations/{id}/webrtc``: the accepting physician joins the call.

The physician's browser sends its SDP offer (microphone, and a data channel named ``events``);
the answer's audio is the call as the physician hears it. In a booked visit the offer also
carries their camera: the answer sends them the patient's camera, and the patient sees theirs in
place of the avatar while they have the call. Mode changes (take over, hand back,
leave) go through ``POST /api/v1/escalations/{id}/{command}`` and the bus, like every other
step, so they are audited and reach the process holding the call.

Any process takes the physician's offer: the process holding the consultation joins them
through its :class:`~dhanvantri.desk.call_host.CallHost`; when another process holds it, the
offer goes there over the bus and its answer comes back the same way, and the media then flows
directly between the physician's browser and the process holding the call.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from dhanvantri.desk.access import DESK, accepted_by_me
from dhanvantri.desk.call_host import CALL_HOST, PhysicianJoin
from dhanvantri.desk.desk import PhysicianDesk
from dhanvantri.desk.schemas import ESCALATION_ID
from dhanvantri.http.auth import caller
from dhanvantri.http.endpoint import Endpoint, install_endpoints, parse_body
from dhanvantri.http.errors import ApiError, NotFound
from dhanvantri.http.permissions import Perm
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.platform.web.common import actor_for

log = logging.getLogger(__name__)


class HolderUnavailable(ApiError):
    """The process holding the call did not answer the join in time."""

    status = 504
    code = "HOLDER_UNAVAILABLE"


class JoinOffer(BaseModel):
    """The physician's browser's session description."""

    sdp: str = Field(min_length=1, max_length=65536)
    type: Literal["offer"]


class JoinAnswer(BaseModel):
    """The SDP answer of the process holding the call."""

    sdp: str
    type: str


async def physician_webrtc(request: web.Request) -> web.Response:
    """Accept the physician's SDP offer for the consultation of an escalation they accepted."""
    principal = caller(request)
    desk = request.app[DESK]
    escalation = await accepted_by_me(request, principal)
    offer = await parse_body(request, JoinOffer)
    join = PhysicianJoin(physician_id=str(principal.user_id), sdp=offer.sdp,
                         name=await _name(request, principal.user_id))
    cid = escalation.consultation_id
    host = desk.host
    if host is not None and host.holds(cid):
        answer = await host.join(cid, join)
    else:
        answer = await _join_elsewhere(desk, cid, join)
    await desk.escalations.record(actor_for(request, principal), "escalation_joined", escalation,
                                  {"mode": "listen"})
    return web.json_response(answer)


async def _join_elsewhere(desk: PhysicianDesk, cid: str, join: PhysicianJoin
                          ) -> dict[str, Any]:
    """Signal over the bus; the media then flows between the browser and the holder."""
    try:
        reply = await desk.request(cid, join.message())
    except LookupError as exc:
        raise NotFound("the consultation has ended", code="NOT_LIVE") from exc
    except TimeoutError as exc:
        raise HolderUnavailable("the server holding the call did not answer") from exc
    error = reply.get("error")
    if isinstance(error, dict):
        raised = ApiError(str(error.get("message")), code=str(error.get("code")),
                          details=error.get("details"))
        raised.status = int(error.get("status") or 502)
        raise raised
    return reply


async def _name(request: web.Request, user_id: Any) -> str:
    """The physician's name as the patient is told it ("" when unknown)."""
    services = request.app.get(SERVICES)
    if services is None:
        return ""
    async with services.uow() as uow:
        user = await uow.users.get(user_id)
    return user.full_name if user is not None else ""


JOIN = Endpoint(
    "POST", "/escalations/{id}/webrtc", physician_webrtc,
    "Join the live call over WebRTC (SDP offer in, answer out)", "physicians",
    Perm.ESCALATIONS, JoinOffer,
    description="Only the physician who accepted the escalation. Any server process takes the "
                "offer; the one holding the consultation answers (over the bus) and carries "
                "the media. The answer's audio is the call (patient and assistant); the "
                "'events' data channel carries transcript, notes and mode events. In a booked "
                "visit the offer may carry the physician's camera (send and receive video): "
                "the answer sends the patient's camera, and the patient sees the physician "
                "instead of the avatar while they have the call.",
    responses={200: "SDP answer",
               403: "FORBIDDEN: another physician accepted it",
               404: "NOT_FOUND (no such escalation) or NOT_LIVE (the call ended)",
               409: "NOT_ACCEPTED (accept it first), NOT_CONNECTED (the patient has not "
                    "connected yet) or PHYSICIAN_JOINED (a physician is already on the call)",
               503: "NOT_READY: the models are still loading",
               504: "HOLDER_UNAVAILABLE: the process holding the call did not answer"},
    response=JoinAnswer, params=ESCALATION_ID)


def install_joins(app: web.Application, desk: PhysicianDesk) -> None:
    """Let physicians join calls: the endpoint, and the calls this process holds (if any)."""
    install_endpoints(app, [JOIN])
    host = app.get(CALL_HOST)
    if host is not None:
        desk.serve_calls(host)
