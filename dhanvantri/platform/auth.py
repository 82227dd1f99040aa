"""Request authentication for every area: ``authenticate_request(request) -> Principal``."""

from __future__ import annotations

from aiohttp import web

from .bootstrap import SERVICES
from .domain.audit import Actor
from .errors import Unauthorized
from .permissions import Perm, ensure
from .tokens import Principal

__all__ = ["Principal", "actor_for", "authenticate_request", "require"]

REQUEST_ID = web.RequestKey("dhanvantri.request_id", str)


def authenticate_request(request: web.Request) -> Principal:
    """The caller from ``Authorization: Bearer <access token>``; raises ``Unauthorized`` (401)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token", code="UNAUTHORIZED")
    return request.app[SERVICES].tokens.principal(token.strip())


def require(request: web.Request, perm: Perm) -> Principal:
    """Authenticate and check one permission (403 when the role lacks it)."""
    principal = authenticate_request(request)
    ensure(principal, perm)
    return principal


def actor_for(request: web.Request, principal: Principal) -> Actor:
    """The audit actor for this request."""
    return Actor(principal.user_id, principal.role.value, request.get(REQUEST_ID))
