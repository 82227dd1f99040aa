"""The booked physician's side of an appointment's video visit: join at the time, end it.

The patient's page starts the visit (``POST /api/v1/consultations`` with ``appointment_id``);
once they are connected the desk reserves the call for the booked physician
(:meth:`~dhanvantri.desk.desk.PhysicianDesk.open_visit`: an escalation accepted by them, which
no other physician can accept). ``POST /api/v1/appointments/{id}/visit/join`` hands the physician
that escalation, inside the visit's window, so their page goes straight to the path an accepted
escalation takes (``.../webrtc``, ``.../takeover``), without the open queue. Ending the call
(``.../end``) completes the appointment (:func:`finish`), audited, and the record goes to review
as every ended call's does.
"""

from __future__ import annotations

import logging
import uuid

from aiohttp import web
from pydantic import BaseModel

from dhanvantri.desk.access import DESK
from dhanvantri.desk.store import Escalation
from dhanvantri.http.auth import caller
from dhanvantri.http.endpoint import Endpoint, install_endpoints, path_uuid
from dhanvantri.http.errors import Conflict
from dhanvantri.http.permissions import Perm
from dhanvantri.http.principal import Principal
from dhanvantri.platform.scheduling import visit
from dhanvantri.platform.web.common import actor_for, services

log = logging.getLogger(__name__)


class PatientNotHere(Conflict):
    """The patient has not connected to the visit yet."""

    code = "PATIENT_NOT_JOINED"


class VisitCall(BaseModel):
    """The call the physician joins: the reserved escalation's paths take it from here."""

    appointment_id: str
    escalation_id: str
    consultation_id: str


async def join(request: web.Request) -> web.Response:
    """``POST /api/v1/appointments/{id}/visit/join``: the booked physician, in the window."""
    principal = caller(request)
    appointment_id = path_uuid(request)
    # Audited as the join itself, on the escalation (physician_media.py).
    admitted = await visit.admit(services(request).uow(), actor_for(request, principal),
                                 appointment_id, audit=False)
    escalation = await request.app[DESK].escalations.for_appointment(str(admitted.appointment_id))
    if escalation is None or escalation.accepted_by != str(principal.user_id):
        raise PatientNotHere("the patient has not joined yet; try again in a moment")
    log.info("visit of appointment %s: physician joins escalation %s", appointment_id,
             escalation.id)
    return web.json_response({"appointment_id": str(appointment_id),
                              "escalation_id": escalation.id,
                              "consultation_id": escalation.consultation_id})


async def finish(request: web.Request, principal: Principal, escalation: Escalation) -> None:
    """The physician ends a visit's call: its appointment is completed (audited).

    Nothing for an escalation that is not a visit's, nor for an appointment no longer booked.
    """
    if escalation.appointment_id is None:
        return
    try:
        await visit.finish(services(request).uow(), actor_for(request, principal),
                           uuid.UUID(escalation.appointment_id))
    except Conflict as exc:
        if exc.code != "INVALID_STATE":
            raise
        # Marked completed (or missed) from the appointments panel already: the call still ends.
        log.info("visit of appointment %s: no longer booked", escalation.appointment_id)


TAG = "physicians"
ENDPOINTS = [
    Endpoint("POST", "/appointments/{id}/visit/join", join,
             "Join a booked video visit (the booked physician, at its time)", TAG,
             Perm.ESCALATIONS, response=VisitCall,
             description="From 10 minutes before the slot to its end, once the patient is "
                         "connected. Returns the escalation reserved for this physician: join "
                         "with its webrtc path, take over, and end (which completes the "
                         "appointment). Audited.",
             responses={200: "the call to join",
                        404: "NOT_FOUND: not this physician's appointment",
                        409: "VISIT_NOT_OPEN, VISIT_CLOSED, INVALID_STATE, or "
                             "PATIENT_NOT_JOINED (try again)"}),
]


def install_visits(app: web.Application) -> None:
    """Add the visit endpoints (with the desk; the back office must be installed)."""
    install_endpoints(app, ENDPOINTS)
