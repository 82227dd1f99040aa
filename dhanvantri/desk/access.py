"""Who may act at the desk: the physician calling, and the escalation they accepted.

The desk's endpoints name ``Perm.ESCALATIONS`` (physicians only), checked before their handlers
run; handlers read the physician with :func:`~dhanvantri.http.auth.caller`.
"""

from __future__ import annotations

from aiohttp import web

from dhanvantri.desk.desk import PhysicianDesk
from dhanvantri.desk.store import Escalation, Status
from dhanvantri.http.errors import Conflict, Forbidden
from dhanvantri.http.principal import Principal

DESK = web.AppKey("dhanvantri.desk", PhysicianDesk)


async def accepted_by_me(request: web.Request, principal: Principal) -> Escalation:
    """The escalation in the path, which this physician must have accepted (403/404/409)."""
    escalation = await request.app[DESK].escalations.store.get(request.match_info["id"])
    if escalation.status is not Status.ACCEPTED:
        raise Conflict("accept the escalation first", code="NOT_ACCEPTED")
    if escalation.accepted_by != str(principal.user_id):
        raise Forbidden("another physician accepted this escalation")
    return escalation
