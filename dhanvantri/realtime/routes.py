"""Consultation endpoints under ``/api/v1/consultations`` and their OpenAPI description."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dhanvantri.http import openapi
from dhanvantri.http.auth import authenticate_request
from dhanvantri.http.errors import Forbidden
from dhanvantri.http.principal import Role
from dhanvantri.realtime.access import check_access
from dhanvantri.realtime.consultations import ServerBusy
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.realtime.transport.webrtc import webrtc_offer
from dhanvantri.realtime.transport.ws import websocket

BASE = openapi.PREFIX + "/consultations"


async def create_consultation(request: web.Request) -> web.Response:
    """``POST /api/v1/consultations``: reserve a session slot and return where to join."""
    runtime = request.app[RUNTIME]
    owner = None
    if runtime.settings.require_auth:
        principal = authenticate_request(request)
        if principal.role is not Role.PATIENT:
            raise Forbidden("only a patient can start a consultation", code="FORBIDDEN")
        owner = principal.user_id
    runtime.require_models()
    try:
        consultation = runtime.registry.create(owner)
    except ServerBusy:
        runtime.metrics.sessions_rejected.inc()
        raise
    http_base, ws_base = _bases(request, runtime.settings.public_base_url)
    path = f"{BASE}/{consultation.id}"
    return web.json_response({"id": consultation.id, "webrtc_url": f"{http_base}{path}/webrtc",
                              "ws_url": f"{ws_base}{path}/ws"}, status=201)


async def end_consultation(request: web.Request) -> web.Response:
    """``DELETE /api/v1/consultations/{id}``: hang up."""
    runtime = request.app[RUNTIME]
    consultation = runtime.registry.get(request.match_info["id"])
    check_access(request, consultation)
    await runtime.registry.close(consultation.id)
    return web.Response(status=204)


def _bases(request: web.Request, public_base_url: str) -> tuple[str, str]:
    """HTTP and WebSocket origins clients should use (the public URL behind a proxy)."""
    base = public_base_url.rstrip("/") or f"{request.scheme}://{request.host}"
    if base.startswith("https://"):
        return base, "wss://" + base.removeprefix("https://")
    return base, "ws://" + base.removeprefix("http://")


def _errors(*statuses: tuple[str, str]) -> dict[str, Any]:
    ref = {"$ref": openapi.REF.format(model="Error")}
    return {status: {"description": text, "content": {"application/json": {"schema": ref}}}
            for status, text in statuses}


ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
SCHEMAS: dict[str, Any] = {
    "Consultation": {"type": "object", "required": ["id", "webrtc_url", "ws_url"], "properties": {
        "id": {"type": "string"}, "webrtc_url": {"type": "string", "format": "uri"},
        "ws_url": {"type": "string", "format": "uri"}}},
    "SessionDescription": {"type": "object", "required": ["sdp", "type"], "properties": {
        "sdp": {"type": "string", "maxLength": 65536},
        "type": {"type": "string", "enum": ["offer", "answer"]}}},
}
AUTH_NOTE = ("Guests may call this in the default embedded mode; with DHANVANTRI_REQUIRE_AUTH=1 "
             "a patient's bearer token is required.")
PATHS: dict[str, Any] = {
    BASE: {"post": {
        "operationId": "consultations_create", "tags": ["consultations"],
        "summary": "Start a consultation", "description": AUTH_NOTE,
        "security": [{}, {"bearer": []}],
        "responses": {"201": {"description": "joined through either URL", "content": {
            "application/json": {"schema": {"$ref": openapi.REF.format(model="Consultation")}}}},
            **_errors(("401", "token required"), ("403", "not a patient"),
                      ("503", "server_busy (max sessions) or not_ready (models loading)"))}}},
    BASE + "/{id}": {"delete": {
        "operationId": "consultations_end", "tags": ["consultations"], "summary": "Hang up",
        "parameters": [ID_PARAM], "security": [{}, {"bearer": []}],
        "responses": {"204": {"description": "ended"}, **_errors(("404", "not found"))}}},
    BASE + "/{id}/webrtc": {"post": {
        "operationId": "consultations_webrtc", "tags": ["consultations"],
        "summary": "Join over WebRTC: send an SDP offer, get the answer",
        "description": "The offer carries the microphone track, a receive-only video transceiver "
                       "for the avatar and a data channel named `events` (JSON events).",
        "parameters": [ID_PARAM], "security": [{}, {"bearer": []}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": openapi.REF.format(model="SessionDescription")}}}},
        "responses": {"200": {"description": "SDP answer", "content": {"application/json": {
            "schema": {"$ref": openapi.REF.format(model="SessionDescription")}}}},
            **_errors(("404", "not found"), ("409", "already joined"),
                      ("422", "invalid SDP offer (names the field)"), ("503", "not_ready"))}}},
    BASE + "/{id}/ws": {"get": {
        "operationId": "consultations_ws", "tags": ["consultations"],
        "summary": "Join over WebSocket (fallback)",
        "description": "Send {\"type\":\"start\",\"sample_rate\":16000,"
                       "\"encoding\":\"pcm_s16le\"}, then binary 16-bit little-endian mono "
                       "audio. The server answers "
                       "{\"type\":\"ready\",...}, binary reply audio in real-time 20 ms frames and "
                       "JSON events. A bad start message gets an error event and close code 4400.",
        "parameters": [ID_PARAM, {"name": "access_token", "in": "query", "required": False,
                                  "schema": {"type": "string"}}],
        "security": [{}, {"bearer": []}],
        "responses": {"101": {"description": "switching to WebSocket"},
                      **_errors(("404", "not found"), ("409", "already joined"),
                                ("503", "not_ready"))}}},
}


def install(app: web.Application) -> None:
    """Add the consultation routes and their OpenAPI entries."""
    app.router.add_post(BASE, create_consultation)
    app.router.add_delete(BASE + "/{id}", end_consultation)
    app.router.add_post(BASE + "/{id}/webrtc", webrtc_offer)
    app.router.add_get(BASE + "/{id}/ws", websocket)
    openapi.add_paths(app, PATHS, SCHEMAS)
