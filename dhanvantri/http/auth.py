"""Bearer tokens to a :class:`Principal`, for every area.

The back office installs the function that checks a token (``app[AUTHENTICATOR]``). Endpoints
name a permission and :func:`~dhanvantri.http.endpoint.install_endpoints` checks it before the
handler runs; handlers read the caller with :func:`caller`. A token that arrives after the
request (a WebSocket's first message) goes through :func:`authorize`, which checks the same
permission. Both are async: the authenticator checks the account and session per request.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from aiohttp import web

from .errors import Unauthorized
from .permissions import Perm, ensure
from .principal import Principal

__all__ = [
    "AUTHENTICATOR",
    "PRINCIPAL",
    "REQUEST_ID",
    "REQUIRED",
    "REQUIRE_AUTH",
    "Principal",
    "authorize",
    "bearer_token",
    "caller",
    "optional_caller",
    "principal_from_token",
]

# Async where it checks the account per request (the back office's); plain ones still work.
Authenticator = Callable[[str], Principal | Awaitable[Principal]]
AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("dhanvantri.http.authenticator")
# Whether endpoints open to guests (``Endpoint.guests``) require sign-in after all.
REQUIRE_AUTH = web.AppKey("dhanvantri.http.require_auth", bool)
REQUEST_ID = web.RequestKey("dhanvantri.request_id", str)
PRINCIPAL = web.RequestKey("dhanvantri.principal", Principal)
REQUIRED = web.RequestKey("dhanvantri.required_permission", Perm)


def bearer_token(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def principal_from_token(request: web.Request, token: str) -> Principal:
    """The caller a token names; 401 when it is invalid, its account disabled or its session
    ended, or no authenticator is installed."""
    authenticator = request.app.get(AUTHENTICATOR)
    if authenticator is None:
        raise Unauthorized("sign-in needs the back office")
    principal = authenticator(token)
    return await principal if inspect.isawaitable(principal) else principal


async def authorize(request: web.Request, token: str | None) -> Principal:
    """Authenticate ``token`` and check the permission the request's endpoint names.

    Raises:
        Unauthorized: no token, or an invalid or expired one (401).
        Forbidden: the caller's role lacks the permission (403).
    """
    if not token:
        raise Unauthorized("missing bearer token")
    principal = await principal_from_token(request, token)
    perm = request.get(REQUIRED)
    if perm is not None:
        ensure(principal, perm)
    request[PRINCIPAL] = principal
    return principal


def caller(request: web.Request) -> Principal:
    """The principal an :class:`~dhanvantri.http.endpoint.Endpoint` authorized."""
    return request[PRINCIPAL]


def optional_caller(request: web.Request) -> Principal | None:
    """The authorized principal, or None for a guest (``Endpoint.guests``)."""
    return request.get(PRINCIPAL)
