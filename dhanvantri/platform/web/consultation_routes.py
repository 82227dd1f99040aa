"""Stored consultations: ``GET /consultations`` and ``GET /consultations/{id}``.

Starting, joining and ending a live consultation are the realtime server's routes on the same
paths (``POST /consultations``, ``DELETE /consultations/{id}``).
"""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_query
from ...http.errors import ValidationFailed
from ...http.permissions import Perm
from .. import consultations
from ..domain.consultations import record_id
from ..record_cipher import RecordCipher
from .common import actor_for, services
from .consultation_schemas import ConsultationList, ConsultationListQuery, ConsultationRecord

# The same parameter as the realtime routes on this path: the live consultation's id (a random
# token) or the stored record's UUID; both name the same record.
ID = {"id": {"type": "string", "minLength": 1, "maxLength": 64}}
CIPHER = web.AppKey("dhanvantri.platform.record_cipher", RecordCipher)


def cipher(request: web.Request) -> RecordCipher:
    """The record cipher ``install`` stored on the application."""
    return request.app[CIPHER]


async def list_all(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, ConsultationListQuery)
    items = await consultations.list_consultations(
        services(request).uow(), actor_for(request, principal), query.limit, query.offset,
        cipher(request))
    return ok({"items": items})


async def get_one(request: web.Request) -> web.Response:
    principal = caller(request)
    raw = request.match_info["id"]
    if not 1 <= len(raw) <= 64:
        raise ValidationFailed.field("id", "1 to 64 characters")
    return ok(await consultations.view(services(request).uow(), cipher(request),
                                       actor_for(request, principal), record_id(raw)))


TAG = "consultations"
ENDPOINTS = [
    Endpoint("GET", "/consultations", list_all,
             "Stored consultations: a patient's own, or the most recent ones", TAG,
             Perm.CONSULT_READ, query=ConsultationListQuery, responses={200: "consultations"},
             response=ConsultationList),
    Endpoint("GET", "/consultations/{id}", get_one,
             "One stored consultation: turns, intake, red flags, escalations", TAG,
             Perm.CONSULT_READ, responses={200: "the consultation's record"},
             response=ConsultationRecord, params=ID),
]
