"""What the back office's route modules share beyond ``dhanvantri.http``."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import REQUEST_ID
from ...http.principal import Principal
from ..bootstrap import SERVICES, Services
from ..domain.audit import Actor


def services(request: web.Request) -> Services:
    """The back office's services stored on the application."""
    return request.app[SERVICES]


def actor_for(request: web.Request, principal: Principal) -> Actor:
    """The audit actor for this request."""
    return Actor(principal.user_id, principal.role.value, request.get(REQUEST_ID))
