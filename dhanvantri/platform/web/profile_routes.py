"""A physician confirms facts a patient stated in the consultation into the patient's profile.

The review record (``GET /prescriptions/{id}``) lists them under ``stated``; the safety gate
counts them whether or not they are confirmed.
"""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, path_uuid
from ...http.permissions import Perm
from .. import prescriptions
from .common import actor_for, services
from .schemas import Prescription, StatedFactsIn


async def confirm_profile(request: web.Request) -> web.Response:
    principal = caller(request)
    rx_id = path_uuid(request)
    body = await parse_body(request, StatedFactsIn)
    return ok(await prescriptions.confirm_stated(
        services(request).uow(), actor_for(request, principal), rx_id, body.model_dump()))


ENDPOINTS = [
    Endpoint("POST", "/prescriptions/{id}/profile", confirm_profile,
             "Confirm facts stated in the consultation into the patient's profile",
             "prescriptions", Perm.RX_REVIEW, StatedFactsIn, responses={200: "prescription"},
             response=Prescription,
             description="Each fact must be one the consultation's intake states; facts "
                         "already in the profile are skipped, so a repeat changes nothing. "
                         "Only while the prescription is pending review."),
]
