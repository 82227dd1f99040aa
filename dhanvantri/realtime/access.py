"""Who may join a consultation."""

from __future__ import annotations

from aiohttp import web

from dhanvantri.http.auth import optional_caller
from dhanvantri.http.errors import NotFound, Unauthorized
from dhanvantri.realtime.consultations import Consultation


def check_access(request: web.Request, consultation: Consultation) -> None:
    """With authentication on, only the patient who created the consultation may join it.

    The endpoint has already checked the caller's token (a header, or ``access_token`` in the
    query string for WebSockets). Guest consultations are protected by their unguessable id
    alone. Someone else's consultation is reported as not found.
    """
    if consultation.owner is None:
        return
    principal = optional_caller(request)
    if principal is None:
        raise Unauthorized("missing bearer token")
    if principal.user_id != consultation.owner:
        raise NotFound("no such consultation")
