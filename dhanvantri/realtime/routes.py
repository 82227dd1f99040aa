"""Consultation endpoints under ``/api/v1/consultations``.

A patient's token is required (``DHANVANTRI_REQUIRE_AUTH``, on by default) and only the patient
who started a consultation may join or end it; with it off, guests may consult too (demos).

A signed-in caller may start one for someone else (``patient_id``: a dependent in their family):
the back office's permission layer decides, through the check ``app.py`` installs as
:data:`CONSULT_FOR` (realtime never imports the back office). The caller joins and hangs up;
the record goes to the patient.

With ``appointment_id`` it is the video visit of a booked appointment: the check ``app.py``
installs as :data:`VISIT_FOR` admits the patient (or their family manager) inside the visit's
window, and the consultation carries the appointment and its physician (the desk reserves the
call for that physician once the patient is connected).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dhanvantri.http import openapi
from dhanvantri.http.auth import optional_caller
from dhanvantri.http.endpoint import Endpoint, client_ip, parse_body
from dhanvantri.http.errors import Unauthorized, ValidationFailed
from dhanvantri.http.permissions import Perm
from dhanvantri.http.principal import Principal
from dhanvantri.realtime.access import check_access
from dhanvantri.realtime.consultations import ServerBusy, Visit
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.realtime.transport.webrtc import SdpOffer, webrtc_offer
from dhanvantri.realtime.transport.ws import websocket

BASE = "/consultations"

# May this caller consult for this patient? Raises the permission layer's 403/404 (audited).
ConsultFor = Callable[[web.Request, Principal, uuid.UUID], Awaitable[None]]
CONSULT_FOR: web.AppKey[ConsultFor] = web.AppKey("dhanvantri.realtime.consult_for")
# May this caller join this appointment's visit now? Returns (patient id, physician id); raises
# the back office's 404/409 (not theirs, not open yet, over).
VisitFor = Callable[[web.Request, Principal, uuid.UUID], Awaitable[tuple[uuid.UUID, uuid.UUID]]]
VISIT_FOR: web.AppKey[VisitFor] = web.AppKey("dhanvantri.realtime.visit_for")


class ConsultationStart(BaseModel):
    """Whom the consultation is for (left out: the caller)."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID | None = Field(
        None, description="a dependent the caller may consult for (a family owner or manager)")
    appointment_id: uuid.UUID | None = Field(
        None, description="the booked appointment whose video visit this is (its patient or "
                          "their family manager, from 10 minutes before the slot to its end)")


class Consultation(BaseModel):
    """Where to join a new consultation (either URL; its id is the capability to join)."""

    id: str
    webrtc_url: str = Field(json_schema_extra={"format": "uri"})
    ws_url: str = Field(json_schema_extra={"format": "uri"})


class SessionDescription(BaseModel):
    """An SDP offer or answer."""

    sdp: str
    type: Literal["offer", "answer"]


async def create_consultation(request: web.Request) -> web.Response:
    """``POST /api/v1/consultations``: reserve a session slot and return where to join."""
    runtime = request.app[RUNTIME]
    principal = optional_caller(request)
    # body_exists, not can_read_body: the error middleware may have read the body already.
    body = (await parse_body(request, ConsultationStart) if request.body_exists
            else ConsultationStart(patient_id=None, appointment_id=None))
    runtime.require_models()
    if body.appointment_id is not None:
        patient, visit = await _visit(request, principal, body)
    else:
        patient, visit = await _patient(request, principal, body.patient_id), None
    settings = runtime.settings
    try:
        consultation = runtime.registry.create(
            principal.user_id if principal else None, patient=patient,
            address=client_ip(request),
            per_owner=settings.consultations_per_patient,
            per_address=settings.consultations_per_address, visit=visit)
    except ServerBusy:
        runtime.metrics.sessions_rejected.inc()
        raise
    http_base, ws_base = _bases(request, runtime.settings.public_base_url)
    path = f"{openapi.PREFIX}{BASE}/{consultation.id}"
    # Location names the new consultation (plain REST); a proxy in front of several servers
    # also learns from it which server holds it, and pins the joins there (deploy/haproxy.cfg).
    return web.json_response({"id": consultation.id, "webrtc_url": f"{http_base}{path}/webrtc",
                              "ws_url": f"{ws_base}{path}/ws"}, status=201,
                             headers={"Location": f"{http_base}{path}"})


async def end_consultation(request: web.Request) -> web.Response:
    """``DELETE /api/v1/consultations/{id}``: hang up."""
    runtime = request.app[RUNTIME]
    consultation = runtime.registry.get(request.match_info["id"])
    check_access(request, consultation)
    await runtime.registry.close(consultation.id)
    return web.Response(status=204)


async def _patient(request: web.Request, principal: Principal | None,
                   patient_id: uuid.UUID | None) -> uuid.UUID | None:
    """Whom the consultation is for once the permission layer has allowed it (None: the
    caller)."""
    if patient_id is None or (principal is not None and patient_id == principal.user_id):
        return None
    if principal is None:
        raise Unauthorized("sign in to consult for someone else")
    check = request.app.get(CONSULT_FOR)
    if check is None:
        raise ValidationFailed.field("patient_id", "this server keeps no family records")
    await check(request, principal, patient_id)
    return patient_id


async def _visit(request: web.Request, principal: Principal | None, body: ConsultationStart
                 ) -> tuple[uuid.UUID | None, Visit]:
    """The patient and physician of the appointment whose visit the caller joins now."""
    if body.patient_id is not None:
        raise ValidationFailed.field("patient_id", "not with appointment_id: the appointment "
                                     "names the patient")
    if principal is None:
        raise Unauthorized("sign in to join your visit")
    check = request.app.get(VISIT_FOR)
    if check is None:
        raise ValidationFailed.field("appointment_id", "this server keeps no appointments")
    assert body.appointment_id is not None
    patient, physician = await check(request, principal, body.appointment_id)
    return (None if patient == principal.user_id else patient), Visit(
        appointment_id=str(body.appointment_id), physician_id=str(physician))


def _bases(request: web.Request, public_base_url: str) -> tuple[str, str]:
    """HTTP and WebSocket origins clients should use (the public URL behind a proxy)."""
    base = public_base_url.rstrip("/") or f"{request.scheme}://{request.host}"
    if base.startswith("https://"):
        return base, "wss://" + base.removeprefix("https://")
    return base, "ws://" + base.removeprefix("http://")


TAG = "consultations"
ID = {"id": {"type": "string", "minLength": 1, "maxLength": 64}}  # not a UUID: a random token
NOT_READY = {503: "NOT_READY: the models are still loading"}
WS_PROTOCOL = (
    "Send {\"type\":\"start\",\"sample_rate\":16000,\"encoding\":\"pcm_s16le\","
    "\"access_token\":\"...\"} (the token: a signed-in patient; or an Authorization header; "
    "never the URL), then binary 16-bit little-endian mono audio. The server answers "
    "{\"type\":\"ready\",...}, binary reply audio in real-time 20 ms frames and JSON events. A "
    "refused start gets an error event, then a close code: 4400 BAD_START, 4401 UNAUTHORIZED, "
    "4403 FORBIDDEN, 4404 NOT_FOUND, 4409 ALREADY_JOINED (the live session is untouched).")
ENDPOINTS = [
    Endpoint("POST", BASE, create_consultation, "Start a consultation", TAG, Perm.CONSULT,
             ConsultationStart, body_optional=True,
             description="Without a body (or without `patient_id`) it is the caller's own. "
                         "With `patient_id` it is a dependent's: a family owner or manager "
                         "may, a viewer may not (403), anyone else finds no such person "
                         "(404); the decision is audited either way. With `appointment_id` "
                         "it is the video visit of a booked appointment: its patient or their "
                         "family manager, inside the visit's window (409 VISIT_NOT_OPEN or "
                         "VISIT_CLOSED otherwise); only the booked physician takes the call.",
             responses={201: "joined through either URL",
                        401: "UNAUTHORIZED: a guest named a patient",
                        403: "FORBIDDEN: a family viewer may not consult for the dependent",
                        404: "NOT_FOUND: no such family member or appointment",
                        409: "VISIT_NOT_OPEN, VISIT_CLOSED or INVALID_STATE: the "
                             "appointment's visit cannot be joined now",
                        429: "RATE_LIMITED: this patient (or guest address) holds its share",
                        503: "SERVER_BUSY (every session slot taken) or NOT_READY (models "
                             "loading)"}, response=Consultation, guests=True),
    Endpoint("DELETE", BASE + "/{id}", end_consultation, "Hang up", TAG, Perm.CONSULT,
             responses={204: "ended"}, params=ID, guests=True),
    Endpoint("POST", BASE + "/{id}/webrtc", webrtc_offer,
             "Join over WebRTC: send an SDP offer, get the answer", TAG, Perm.CONSULT, SdpOffer,
             description="The offer carries the microphone track, a receive-only video "
                         "transceiver for the avatar and a data channel named `events` (JSON "
                         "events).",
             responses={200: "SDP answer", 409: "ALREADY_JOINED", **NOT_READY},
             response=SessionDescription, params=ID, guests=True),
    Endpoint("GET", BASE + "/{id}/ws", websocket, "Join over WebSocket (fallback)", TAG,
             Perm.CONSULT, description=WS_PROTOCOL,
             responses={101: "switching to WebSocket", 409: "ALREADY_JOINED", **NOT_READY},
             params=ID, guests=True, token_message=True),
]
