"""Physician endpoints: the dashboard page, its live queue over a WebSocket, accept and resolve.

``install_physician(app, settings)`` adds:

* ``GET /physician``: the dashboard page (``web_client/physician.html``);
* ``GET /api/v1/physician/ws``: the live queue. Browsers cannot set headers on a WebSocket, so
  the physician's access token comes as the first message ``{"type": "auth", "token": "..."}``
  (never in the URL, which logs and proxies keep). The server sends ``{"type": "queue",
  "items": [...]}`` (emergencies first), then every change as ``{"type": "escalation",
  "event", "escalation", "published_at"}``, and each change of the review queue as
  ``{"type": "review_queue", "prescription_id", "status", "urgent", "published_at"}`` (the
  page then fetches the queue);
* ``GET /api/v1/escalations``: the same queue over plain HTTP;
* ``POST /api/v1/escalations/{id}/accept`` and ``.../resolve`` (the accepting physician or an
  admin; the patient is told);
* ``POST /api/v1/escalations/{id}/webrtc``: the accepting physician joins the call
  (``physician_media.py``), then ``.../takeover``, ``.../handback`` (body ``{"notes": ...}``),
  ``.../listen`` and ``.../leave`` switch modes and ``.../end`` ends the consultation for the
  patient (the record closes as ``physician_ended``; a booked visit's appointment completes);
  they travel over the bus to the process holding the consultation, so they work from any
  process;
* ``POST /api/v1/appointments/{id}/visit/join``: the booked physician joins an appointment's
  video visit at its time (``visits.py``).

Every endpoint names ``Perm.ESCALATIONS`` (physicians only), checked before its handler runs;
resolve names ``Perm.ESCALATIONS_RESOLVE`` (physicians and admins).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from dhanvantri.desk import visits
from dhanvantri.desk.access import DESK, accepted_by_me
from dhanvantri.desk.cluster.bus import EventBus, make_bus
from dhanvantri.desk.desk import PhysicianDesk
from dhanvantri.desk.escalations import QUEUE_CHANNEL, uow_audit
from dhanvantri.desk.physician_media import install_joins
from dhanvantri.desk.schemas import (
    COMMAND,
    ESCALATION_ID,
    CommandBody,
    CommandSent,
    Escalation,
    EscalationQueue,
)
from dhanvantri.http import pages
from dhanvantri.http.auth import caller, optional_caller
from dhanvantri.http.endpoint import Endpoint, install_endpoints, parse_body
from dhanvantri.http.errors import NotFound
from dhanvantri.http.permissions import Perm
from dhanvantri.http.principal import Role
from dhanvantri.http.sockets import (
    HEARTBEAT_S,
    MAX_MESSAGE,
    first_message_auth,
    pump,
)
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.platform.web.common import actor_for
from dhanvantri.settings import Settings

log = logging.getLogger(__name__)


async def command(request: web.Request) -> web.Response:
    """``POST /api/v1/escalations/{id}/{takeover|handback|listen|leave}``."""
    principal = caller(request)
    escalation = await accepted_by_me(request, principal)
    kind = request.match_info["command"]
    # body_exists, not can_read_body: the error middleware has already read the body.
    body = await parse_body(request, CommandBody) if request.body_exists else CommandBody()
    desk = request.app[DESK]
    if kind == "end":
        await visits.finish(request, principal, escalation)  # a visit's appointment completes
    try:
        holder = await desk.command(escalation.consultation_id, {
            "type": kind, "physician_id": str(principal.user_id), "notes": body.notes})
    except LookupError as exc:
        raise NotFound("the consultation has ended", code="NOT_LIVE") from exc
    # The notes may hold patient details: the audit trail records that there were some.
    await desk.escalations.record(actor_for(request, principal), f"escalation_{kind}", escalation,
                                  {"notes_chars": len(body.notes)})
    return web.json_response({"id": escalation.id, "command": kind, "held_by": holder})


async def queue(request: web.Request) -> web.Response:
    """``GET /api/v1/escalations``: open escalations, emergencies first."""
    return web.json_response({"items": await request.app[DESK].escalations.queue()})


async def accept(request: web.Request) -> web.Response:
    """``POST /api/v1/escalations/{id}/accept``: take it (409 when someone else did first)."""
    escalation = await request.app[DESK].escalations.accept(
        request.match_info["id"], actor_for(request, caller(request)))
    holder = await request.app[DESK].holder(escalation.consultation_id)
    return web.json_response({**escalation.summary(), "held_by": holder})


async def resolve(request: web.Request) -> web.Response:
    """``POST /api/v1/escalations/{id}/resolve``: the accepting physician (or an admin) is done
    with it; the patient is told."""
    principal = caller(request)
    escalation = await request.app[DESK].escalations.resolve(
        request.match_info["id"], actor_for(request, principal),
        admin=principal.role is Role.ADMIN)
    return web.json_response(escalation.summary())


async def dashboard_socket(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/physician/ws``: the live queue for one physician's dashboard."""
    desk = request.app[DESK]
    principal = optional_caller(request)  # None: the token comes as the first message
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    if principal is None:
        authorized = await first_message_auth(request, ws)
        if authorized is None:
            return ws
        principal = authorized[0]
    physician_id = str(principal.user_id)
    await desk.physician_online(physician_id)
    try:
        async with await desk.bus.subscribe(QUEUE_CHANNEL) as events:
            # Subscribed before the snapshot: nothing falls between the two (the page upserts).
            await ws.send_json({"type": "hello", "physician_id": physician_id, "node": desk.node})
            await ws.send_json({"type": "queue", "items": await desk.escalations.queue(),
                                "sent_at": time.time() * 1000.0})
            await pump(ws, _forward(events, ws))  # a lost bus: reconnect, fresh snapshot
    finally:
        await desk.physician_offline(physician_id)
    return ws


async def _forward(events: AsyncIterator[dict[str, Any]], ws: web.WebSocketResponse) -> None:
    try:
        async for event in events:
            await ws.send_json(event)
    except (ConnectionError, RuntimeError):
        log.info("physician dashboard gone while sending")


TAG = "physicians"
DASHBOARD = (
    "Token as a bearer header or the first message {\"type\":\"auth\",\"token\":...}. "
    "Sends {\"type\":\"queue\",\"items\":[Escalation]} then {\"type\":\"escalation\",\"event\","
    "\"escalation\",\"published_at\"} per change, and {\"type\":\"review_queue\","
    "\"prescription_id\",\"status\",\"urgent\",\"published_at\"} when the review queue "
    "changes. Close codes 4401 (bad token) and 4403 (not a physician).")
COMMANDS_NOTE = (
    "Only the physician who accepted the escalation. takeover: the assistant goes silent and "
    "the physician's voice reaches the patient; handback/listen: the assistant resumes with the "
    "notes in its context; leave: the physician hangs up; end: the patient is told the doctor "
    "ended the consultation and the call ends (its record goes to review as physician_ended). "
    "Audited.")
RESOLVE_NOTE = (
    "Only the physician who accepted the escalation, or an admin. One nobody accepted yet is "
    "refused unless an admin closes it. The patient is told (shown and spoken) what happens "
    "next: an emergency closed unanswered gets the emergency number. Audited.")
ENDPOINTS = [
    Endpoint("GET", "/physician/ws", dashboard_socket, "Live escalation queue (WebSocket)", TAG,
             Perm.ESCALATIONS, description=DASHBOARD,
             responses={101: "switching to WebSocket"}, token_message=True),
    Endpoint("GET", "/escalations", queue, "Open escalations, emergencies first", TAG,
             Perm.ESCALATIONS, responses={200: "queue"}, response=EscalationQueue),
    Endpoint("POST", "/escalations/{id}/accept", accept,
             "Accept an escalation (exactly one physician wins)", TAG, Perm.ESCALATIONS,
             responses={200: "accepted", 409: "ESCALATION_STATE: already accepted or resolved"},
             response=Escalation, params=ESCALATION_ID),
    Endpoint("POST", "/escalations/{id}/resolve", resolve, "Resolve an escalation", TAG,
             Perm.ESCALATIONS_RESOLVE, description=RESOLVE_NOTE,
             responses={200: "resolved; the patient is told",
                        403: "FORBIDDEN: another physician accepted it",
                        409: "NOT_ACCEPTED (nobody accepted it yet) or ESCALATION_STATE "
                             "(resolved already)"},
             response=Escalation, params=ESCALATION_ID),
    Endpoint("POST", "/escalations/{id}/{command}", command,
             "Switch the live call's mode (takeover, handback, listen, leave) or end it", TAG,
             Perm.ESCALATIONS, CommandBody, description=COMMANDS_NOTE,
             responses={200: "sent to the process holding the call",
                        403: "FORBIDDEN: another physician accepted it",
                        404: "NOT_FOUND (no such escalation) or NOT_LIVE (the call ended)",
                        409: "NOT_ACCEPTED: accept it first"},
             response=CommandSent, params={**ESCALATION_ID, **COMMAND}, body_optional=True),
]


def install_physician(app: web.Application, settings: Settings, *,
                      bus: EventBus | None = None, web_client_dir: Path | None = None
                      ) -> PhysicianDesk:
    """Add the physician desk, its routes and OpenAPI entries to ``app`` (before it starts).

    Call after the back office is installed (escalations are audited through it) and before
    the patient page's catch-all static route.

    Args:
        app: the application being built.
        settings: bus choice, Redis URL, escalation timeout, emergency number.
        bus: an event bus to use instead of the one the settings name (tests).
        web_client_dir: where ``physician.html`` is (default: the patient page's folder).
    """
    services = app.get(SERVICES)
    desk = PhysicianDesk(bus or make_bus(settings), settings,
                         audit=uow_audit(services.uow) if services is not None else None)
    app[DESK] = desk
    if services is not None:
        services.review.listen(desk.review_changed)  # review decisions reach every dashboard
    install_endpoints(app, ENDPOINTS)
    install_joins(app, desk)
    if services is not None:
        visits.install_visits(app)  # the booked physician joins an appointment's visit
    folder = web_client_dir or pages.web_client_dir(settings.web_client_dir)
    pages.add_page(app, "/physician", folder / "physician.html")

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        desk.start()
        yield
        await desk.close()

    app.cleanup_ctx.append(lifecycle)
    return desk
