"""Physician endpoints: the dashboard page, its live queue over a WebSocket, accept and resolve.

``install_physician(app, settings)`` adds:

* ``GET /physician``: the dashboard page (``web_client/physician.html``);
* ``GET /api/v1/physician/ws``: the live queue. Browsers cannot set headers on a WebSocket, so
  the physician's access token comes as ``?token=`` or as the first message
  ``{"type": "auth", "token": "..."}``. The server sends ``{"type": "queue", "items": [...]}``
  (emergencies first), then every change as ``{"type": "escalation", "event", "escalation",
  "published_at"}``;
* ``GET /api/v1/escalations``: the same queue over plain HTTP;
* ``POST /api/v1/escalations/{id}/accept`` and ``.../resolve``;
* ``POST /api/v1/escalations/{id}/webrtc``: the accepting physician joins the call
  (``physician_media.py``), then ``.../takeover``, ``.../handback`` (body ``{"notes": ...}``),
  ``.../listen`` and ``.../leave`` switch modes; they travel over the bus to the process holding
  the consultation, so they work from any process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field

from dhanvantri.desk.access import DESK, ESCALATIONS, accepted_by_me, actor, physician
from dhanvantri.desk.cluster.bus import EventBus, make_bus
from dhanvantri.desk.desk import COMMANDS, PhysicianDesk
from dhanvantri.desk.escalations import QUEUE_CHANNEL, uow_audit
from dhanvantri.desk.physician_media import install_joins
from dhanvantri.http import openapi, pages
from dhanvantri.http.endpoint import parse_body
from dhanvantri.http.errors import ApiError, Forbidden, NotFound, Unauthorized
from dhanvantri.http.principal import Principal
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings

log = logging.getLogger(__name__)

WS_PATH = openapi.PREFIX + "/physician/ws"
AUTH_TIMEOUT_S = 10.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BUS_LOST = 1011  # internal error: reconnect


class CommandBody(BaseModel):
    """Optional notes for the assistant (hand back)."""

    model_config = ConfigDict(extra="forbid")
    notes: str = Field(default="", max_length=4000)


async def command(request: web.Request) -> web.Response:
    """``POST /api/v1/escalations/{id}/{takeover|handback|listen|leave}``."""
    principal = physician(request)
    escalation = await accepted_by_me(request, principal)
    kind = request.match_info["command"]
    body = await parse_body(request, CommandBody) if request.can_read_body else CommandBody()
    desk = request.app[DESK]
    try:
        holder = await desk.command(escalation.consultation_id, {
            "type": kind, "physician_id": str(principal.user_id), "notes": body.notes})
    except LookupError as exc:
        raise NotFound("the consultation has ended", code="not_live") from exc
    # The notes may hold patient details: the audit trail records that there were some.
    await desk.escalations.record(actor(request, principal), f"escalation_{kind}", escalation,
                                  {"notes_chars": len(body.notes)})
    return web.json_response({"id": escalation.id, "command": kind, "held_by": holder})


async def queue(request: web.Request) -> web.Response:
    """``GET /api/v1/escalations``: open escalations, emergencies first."""
    physician(request)
    return web.json_response({"items": await request.app[DESK].escalations.queue()})


async def accept(request: web.Request) -> web.Response:
    """``POST /api/v1/escalations/{id}/accept``: take it (409 when someone else did first)."""
    principal = physician(request)
    escalation = await request.app[DESK].escalations.accept(
        request.match_info["id"], actor(request, principal))
    holder = await request.app[DESK].holder(escalation.consultation_id)
    return web.json_response({**escalation.summary(), "held_by": holder})


async def resolve(request: web.Request) -> web.Response:
    """``POST /api/v1/escalations/{id}/resolve``: the physician is done with it."""
    principal = physician(request)
    escalation = await request.app[DESK].escalations.resolve(
        request.match_info["id"], actor(request, principal))
    return web.json_response(escalation.summary())


async def dashboard_socket(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/physician/ws``: the live queue for one physician's dashboard."""
    desk = request.app[DESK]
    token = request.query.get("token")
    principal = physician(request, token) if token else None  # 401/403 before upgrading
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
    await ws.prepare(request)
    if principal is None:
        principal = await _first_message_auth(request, ws)
        if principal is None:
            return ws
    physician_id = str(principal.user_id)
    await desk.physician_online(physician_id)
    try:
        async with await desk.bus.subscribe(QUEUE_CHANNEL) as events:
            # Subscribed before the snapshot: nothing falls between the two (the page upserts).
            await ws.send_json({"type": "hello", "physician_id": physician_id, "node": desk.node})
            await ws.send_json({"type": "queue", "items": await desk.escalations.queue(),
                                "sent_at": time.time() * 1000.0})
            forward = asyncio.ensure_future(_forward(events, ws))
            reader = asyncio.ensure_future(_until_closed(ws))
            try:
                await asyncio.wait([forward, reader], return_when=asyncio.FIRST_COMPLETED)
                if forward.done() and not ws.closed:
                    # The bus dropped us (Redis went away): the page reconnects and gets a
                    # fresh snapshot rather than silently showing a stale queue.
                    await ws.close(code=CLOSE_BUS_LOST, message=b"event bus lost")
            finally:
                for task in (forward, reader):
                    task.cancel()
                await asyncio.gather(forward, reader, return_exceptions=True)
    finally:
        await desk.physician_offline(physician_id)
    return ws


async def _first_message_auth(request: web.Request, ws: web.WebSocketResponse
                              ) -> Principal | None:
    try:
        msg = await ws.receive(timeout=AUTH_TIMEOUT_S)
        message = json.loads(msg.data) if msg.type is WSMsgType.TEXT else {}
        token = message.get("token") if isinstance(message, dict) else None
        if not isinstance(token, str) or message.get("type") != "auth":
            raise Unauthorized('the first message must be {"type": "auth", "token": "..."}',
                               code="UNAUTHORIZED")
        return physician(request, token)
    except (TimeoutError, ValueError, ApiError) as exc:
        unauthorized = not isinstance(exc, Forbidden)
        code = "UNAUTHORIZED" if unauthorized else "FORBIDDEN"
        text = exc.message if isinstance(exc, ApiError) else "no valid auth message"
        if not ws.closed:
            await ws.send_json({"type": "error", "code": code, "message": text})
            await ws.close(code=CLOSE_UNAUTHORIZED if unauthorized else CLOSE_FORBIDDEN,
                           message=code.encode())
        return None


async def _forward(events: AsyncIterator[dict[str, Any]], ws: web.WebSocketResponse) -> None:
    try:
        async for event in events:
            await ws.send_json(event)
    except (ConnectionError, RuntimeError):
        log.info("physician dashboard gone while sending")


async def _until_closed(ws: web.WebSocketResponse) -> None:
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            try:
                kind = json.loads(msg.data).get("type")
            except (ValueError, AttributeError):
                kind = None
            if kind == "ping":
                await ws.send_json({"type": "pong", "sent_at": time.time() * 1000.0})
        elif msg.type is WSMsgType.ERROR:
            return


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
    _hook_consultations(app, desk)
    app.router.add_get(WS_PATH, dashboard_socket)
    app.router.add_get(ESCALATIONS, queue)
    app.router.add_post(ESCALATIONS + "/{id}/accept", accept)
    app.router.add_post(ESCALATIONS + "/{id}/resolve", resolve)
    app.router.add_post(ESCALATIONS + "/{id}/{command:" + "|".join(sorted(COMMANDS)) + "}",
                        command)
    install_joins(app, desk)
    folder = web_client_dir or pages.web_client_dir(settings.web_client_dir)
    pages.add_page(app, "/physician", folder / "physician.html")
    openapi.add_paths(app, PATHS, SCHEMAS)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        desk.start()
        yield
        await desk.close()

    app.cleanup_ctx.append(lifecycle)
    return desk


def _hook_consultations(app: web.Application, desk: PhysicianDesk) -> None:
    """Let the consultations this process holds raise escalations through the desk."""
    runtime = app.get(RUNTIME)
    if runtime is None:
        return
    registry = runtime.registry

    def on_event(consultation_id: str, event: dict[str, Any], send: Any) -> None:
        if event.get("type") != "escalation":
            return
        ended = registry.get(consultation_id).closed if consultation_id in registry else None
        desk.on_consultation_event(consultation_id, event, send, ended)

    runtime.on_event = on_event


def _errors(*pairs: tuple[str, str]) -> dict[str, Any]:
    ref = {"$ref": openapi.REF.format(model="Error")}
    return {status: {"description": text, "content": {"application/json": {"schema": ref}}}
            for status, text in pairs}


ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_ITEM = {"$ref": openapi.REF.format(model="Escalation")}
SCHEMAS: dict[str, Any] = {"Escalation": {
    "type": "object", "description": "A redacted escalation: identifiers only, no patient text.",
    "required": ["id", "consultation_id", "reason", "red_flags", "topics", "emergency",
                 "status", "raised_at", "deadline"],
    "properties": {
        "id": {"type": "string"}, "consultation_id": {"type": "string"},
        "reason": {"type": "string", "examples": ["red_flag", "patient_request", "uncertain"]},
        "red_flags": {"type": "array", "items": {"type": "string"}},
        "topics": {"type": "array", "items": {"type": "string"}},
        "emergency": {"type": "boolean"},
        "status": {"type": "string",
                   "enum": ["raised", "offered", "accepted", "timed_out", "resolved"]},
        "raised_at": {"type": "number", "description": "seconds since the epoch"},
        "deadline": {"type": "number"}, "offered_to": {"type": "integer"},
        "accepted_by": {"type": ["string", "null"]},
        "accepted_at": {"type": ["number", "null"]},
        "timed_out_at": {"type": ["number", "null"]},
        "held_by": {"type": ["string", "null"],
                    "description": "server process holding the live consultation (accept)"}}}}
_SECURITY = [{"bearer": []}]
_ROLE = "Roles: physician."
PATHS: dict[str, Any] = {
    WS_PATH: {"get": {
        "operationId": "physician_ws", "tags": ["physicians"],
        "summary": "Live escalation queue (WebSocket)",
        "description": _ROLE + " Token as ?token= or first message {\"type\":\"auth\",\"token\":"
                       "...}. Sends {\"type\":\"queue\",\"items\":[Escalation]} then "
                       "{\"type\":\"escalation\",\"event\",\"escalation\",\"published_at\"} per "
                       "change. Close codes 4401 (bad token) and 4403 (not a physician).",
        "parameters": [{"name": "token", "in": "query", "required": False,
                        "schema": {"type": "string"}}],
        "security": [{}, *_SECURITY],
        "responses": {"101": {"description": "switching to WebSocket"},
                      **_errors(("401", "invalid or expired token"),
                                ("403", "not a physician"))}}},
    ESCALATIONS: {"get": {
        "operationId": "escalations_queue", "tags": ["physicians"], "description": _ROLE,
        "summary": "Open escalations, emergencies first", "security": _SECURITY,
        "responses": {"200": {"description": "queue", "content": {"application/json": {
            "schema": {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": _ITEM}}}}}},
            **_errors(("401", "token required"), ("403", "not a physician"))}}},
    ESCALATIONS + "/{id}/accept": {"post": {
        "operationId": "escalations_accept", "tags": ["physicians"], "description": _ROLE,
        "summary": "Accept an escalation (exactly one physician wins)",
        "parameters": [ID_PARAM], "security": _SECURITY,
        "responses": {"200": {"description": "accepted", "content": {"application/json": {
            "schema": _ITEM}}},
            **_errors(("401", "token required"), ("403", "not a physician"),
                      ("404", "not found"), ("409", "already accepted or resolved"))}}},
    ESCALATIONS + "/{id}/resolve": {"post": {
        "operationId": "escalations_resolve", "tags": ["physicians"], "description": _ROLE,
        "summary": "Resolve an escalation", "parameters": [ID_PARAM], "security": _SECURITY,
        "responses": {"200": {"description": "resolved", "content": {"application/json": {
            "schema": _ITEM}}},
            **_errors(("401", "token required"), ("403", "not a physician"),
                      ("404", "not found"), ("409", "already resolved"))}}},
    ESCALATIONS + "/{id}/{command}": {"post": {
        "operationId": "escalations_command", "tags": ["physicians"],
        "summary": "Switch the live call's mode: takeover, handback, listen or leave",
        "description": _ROLE + " Only the physician who accepted the escalation. takeover: the "
                       "assistant goes silent and the physician's voice reaches the patient; "
                       "handback/listen: the assistant resumes with the notes in its context; "
                       "leave: the physician hangs up. Audited.",
        "parameters": [ID_PARAM, {"name": "command", "in": "path", "required": True,
                                  "schema": {"type": "string", "enum": sorted(COMMANDS)}}],
        "security": _SECURITY,
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "properties": {
                "notes": {"type": "string", "maxLength": 4000}}}}}},
        "responses": {"200": {"description": "sent to the process holding the call",
                              "content": {"application/json": {"schema": {
                                  "type": "object", "required": ["id", "command", "held_by"],
                                  "properties": {"id": {"type": "string"},
                                                 "command": {"type": "string"},
                                                 "held_by": {"type": "string"}}}}}},
                      **_errors(("422", "bad notes"), ("401", "token required"),
                                ("403", "not the accepting physician"),
                                ("404", "no such escalation, or the call ended"),
                                ("409", "not accepted yet"))}}},
    ESCALATIONS + "/{id}/webrtc": {"post": {
        "operationId": "escalations_join", "tags": ["physicians"],
        "summary": "Join the live call over WebRTC (SDP offer in, answer out)",
        "description": _ROLE + " Only the physician who accepted the escalation. Any server "
                       "process takes the offer; the one holding the consultation answers (over "
                       "the bus) and carries the media. The answer's audio is the call (patient "
                       "and assistant); the 'events' data channel carries transcript, notes and "
                       "mode events.",
        "parameters": [ID_PARAM], "security": _SECURITY,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["sdp", "type"], "properties": {
                "sdp": {"type": "string"}, "type": {"type": "string", "enum": ["offer"]}}}}}},
        "responses": {"200": {"description": "SDP answer", "content": {"application/json": {
            "schema": {"type": "object", "required": ["sdp", "type"], "properties": {
                "sdp": {"type": "string"}, "type": {"type": "string"}}}}}},
            **_errors(("422", "bad offer"), ("401", "token required"),
                      ("403", "not the accepting physician"),
                      ("404", "no such escalation, or the call ended"),
                      ("409", "not accepted yet, or a physician already joined"),
                      ("503", "models loading"),
                      ("504", "the process holding the call did not answer"))}}},
}
