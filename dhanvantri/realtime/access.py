"""Who may join a consultation."""

from __future__ import annotations

from aiohttp import web

from dhanvantri.http.auth import REQUIRE_AUTH, authorize, optional_caller
from dhanvantri.http.errors import NotFound, Unauthorized
from dhanvantri.http.principal import Principal
from dhanvantri.realtime.consultations import Consultation


def check_access(request: web.Request, consultation: Consultation) -> None:
    """With authentication on, only the patient who created the consultation may join it.

    The endpoint has already checked the caller's token (a header). Guest consultations are
    protected by their unguessable id alone. Someone else's consultation is reported as not
    found.
    """
    check_owner(consultation, optional_caller(request))


def check_owner(consultation: Consultation, principal: Principal | None) -> None:
    """Raise unless ``principal`` may join ``consultation`` (401 none, 404 someone else's)."""
    if consultation.owner is None:
        return
    if principal is None:
        raise Unauthorized("missing bearer token")
    if principal.user_id != consultation.owner:
        raise NotFound("no such consultation")


async def start_caller(request: web.Request, consultation: Consultation,
                       token: object) -> Principal | None:
    """The caller of a WebSocket whose token came in its start message (not the URL, which
    access logs and proxies keep); checks the token, the endpoint's permission and ownership.

    Raises:
        Unauthorized: a token is needed (or is bad).
        Forbidden: the caller's role may not consult.
        NotFound: someone else's consultation.
    """
    principal = optional_caller(request)  # an Authorization header, checked already
    if principal is None and token is not None:
        principal = await authorize(request, token if isinstance(token, str) else None)
    elif principal is None and request.app.get(REQUIRE_AUTH, False):
        raise Unauthorized('sign-in needed: send "access_token" in the start message')
    check_owner(consultation, principal)
    return principal
