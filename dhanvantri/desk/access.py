"""Who may act at the desk: the physician calling, and the escalation they accepted."""

from __future__ import annotations

from aiohttp import web

from dhanvantri.desk.desk import PhysicianDesk
from dhanvantri.desk.store import Escalation, Status
from dhanvantri.http import openapi
from dhanvantri.http.auth import REQUEST_ID, authenticate_request, principal_from_token
from dhanvantri.http.errors import Conflict, Forbidden
from dhanvantri.http.principal import Principal, Role
from dhanvantri.platform.domain.audit import Actor

DESK = web.AppKey("dhanvantri.desk", PhysicianDesk)
ESCALATIONS = openapi.PREFIX + "/escalations"


def physician(request: web.Request, token: str | None = None) -> Principal:
    """The physician calling (bearer header, or ``token`` when given); 401 or 403 otherwise."""
    principal = (authenticate_request(request) if token is None
                 else principal_from_token(request, token))
    if principal.role is not Role.PHYSICIAN:
        raise Forbidden("only a physician may do this", code="FORBIDDEN")
    return principal


def actor(request: web.Request, principal: Principal) -> Actor:
    """The audit trail's actor for this request."""
    return Actor(principal.user_id, principal.role.value, request.get(REQUEST_ID))


async def accepted_by_me(request: web.Request, principal: Principal) -> Escalation:
    """The escalation in the path, which this physician must have accepted (403/404/409)."""
    escalation = await request.app[DESK].escalations.store.get(request.match_info["id"])
    if escalation.status is not Status.ACCEPTED:
        raise Conflict("accept the escalation first", code="not_accepted")
    if escalation.accepted_by != str(principal.user_id):
        raise Forbidden("another physician accepted this escalation", code="FORBIDDEN")
    return escalation
