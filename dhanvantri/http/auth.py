"""Bearer tokens to a :class:`Principal`, for every area.

The back office installs the function that checks a token (``app[AUTHENTICATOR]``); other areas
call :func:`authenticate_request` or :func:`principal_from_token` and never see how tokens work.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from .errors import Unauthorized
from .permissions import Perm, ensure
from .principal import Principal

__all__ = ["AUTHENTICATOR", "PRINCIPAL", "REQUEST_ID", "Principal", "authenticate_request",
           "bearer_token", "caller", "principal_from_token", "require"]

Authenticator = Callable[[str], Principal]
AUTHENTICATOR = web.AppKey("dhanvantri.http.authenticator", Authenticator)
REQUEST_ID = web.RequestKey("dhanvantri.request_id", str)
PRINCIPAL = web.RequestKey("dhanvantri.principal", Principal)


def bearer_token(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def principal_from_token(request: web.Request, token: str) -> Principal:
    """The caller a token names; 401 when it is invalid or no authenticator is installed."""
    authenticator = request.app.get(AUTHENTICATOR)
    if authenticator is None:
        raise Unauthorized("sign-in needs the back office", code="UNAUTHORIZED")
    return authenticator(token)


def authenticate_request(request: web.Request) -> Principal:
    """The caller from ``Authorization: Bearer <access token>``; raises ``Unauthorized`` (401)."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("missing bearer token", code="UNAUTHORIZED")
    principal = principal_from_token(request, token)
    request[PRINCIPAL] = principal
    return principal


def require(request: web.Request, perm: Perm) -> Principal:
    """Authenticate and check one permission (403 when the role lacks it)."""
    principal = authenticate_request(request)
    ensure(principal, perm)
    return principal


def caller(request: web.Request) -> Principal:
    """The principal an :class:`~dhanvantri.http.endpoint.Endpoint` authenticated."""
    return request[PRINCIPAL]
