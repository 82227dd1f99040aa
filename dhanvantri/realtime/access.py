"""Who may join a consultation."""

from __future__ import annotations

from aiohttp import web

from dhanvantri.http.auth import bearer_token, principal_from_token
from dhanvantri.http.errors import NotFound, Unauthorized
from dhanvantri.realtime.consultations import Consultation


def check_access(request: web.Request, consultation: Consultation) -> None:
    """With authentication on, only the patient who created the consultation may join it.

    Browsers cannot set headers on a WebSocket, so the token may also come as ``access_token``
    in the query string. Guest consultations are protected by their unguessable id alone.
    """
    if consultation.owner is None:
        return
    token = bearer_token(request) or request.query.get("access_token", "")
    if not token:
        raise Unauthorized("missing bearer token", code="UNAUTHORIZED")
    if principal_from_token(request, token).user_id != consultation.owner:
        raise NotFound("no such consultation", code="NOT_FOUND")
