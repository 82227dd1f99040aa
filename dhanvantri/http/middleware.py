"""The one place where errors become HTTP: ``{"error": {"code", "message", "details"}}``.

Also what every response shares: the security headers (:func:`harden`), the request body read
up front under a size limit and a timeout, and :class:`HardenedRunner`, whose connections answer
what aiohttp rejects before any route runs (an oversize header) in the same JSON shape.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from .auth import REQUEST_ID
from .endpoint import MAX_BODY, TRUSTED_PROXIES, trusted_networks
from .errors import ApiError, NotFound, PayloadTooLarge, RequestTimeout

if TYPE_CHECKING:
    from dhanvantri.settings import Settings

log = logging.getLogger(__name__)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE", 408: "REQUEST_TIMEOUT",
               413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED",
               431: "HEADERS_TOO_LARGE", 500: "INTERNAL_ERROR"}
BODY_TIMEOUT_S = web.AppKey("dhanvantri.http.body_timeout_s", float)
DEFAULT_BODY_TIMEOUT_S = 30.0

SERVER = "dhanvantri"  # the Server header: no framework, no version
# What the pages need and nothing more. Scripts and the audio worklet are the pages' own
# files; blob: serves media only (the signed PDF, received audio). The dashboard has an inline
# <style> and style="" attributes (styles cannot run code); the favicon is an inline SVG. CSP3
# lets 'self' cover the page's own ws:/wss: origin.
CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "Referrer-Policy": "no-referrer",  # consultation and record ids travel in URLs
    # The camera: a booked visit is a video call (the patient's and the physician's pages).
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"  # a year; no includeSubDomains: the clinic's other hosts are theirs


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> web.Response:
    """The JSON error body with its HTTP status."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Give every ``/api/`` request an id and turn every failure into the JSON error shape."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    try:
        if await _no_such_api_path(request):
            raise NotFound("no such API path")
        if await _read_body(request):
            response = await handler(request)
        else:  # the client hung up mid-body: nobody to answer, nothing broken
            log.info("client disconnected before its request body ended: %s %s request_id=%s",
                     request.method, _route(request), request_id)
            response = error_response(400, "BAD_REQUEST", "incomplete request body")
    except ApiError as exc:
        headers = None
        # Too many attempts, or a server that is draining or full: when to try again.
        if isinstance(exc.details, dict) and (exc.status == 429 or "retry_after" in exc.details):
            headers = {"Retry-After": str(exc.details.get("retry_after", 60))}
        response = error_response(exc.status, exc.code, exc.message, exc.details, headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        response = error_response(exc.status, _HTTP_CODES.get(exc.status, "HTTP_ERROR"),
                                  exc.reason, None, headers)
    except Exception:
        log.exception("unhandled error on %s %s request_id=%s", request.method,
                      _route(request), request_id)
        response = error_response(500, "INTERNAL_ERROR", "internal error",
                                  {"request_id": request_id})
    if response.status in (408, 413):
        response.force_close()  # the rest of the body is not worth waiting for
    response.headers["X-Request-ID"] = request_id
    return response


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource else "?"


async def _no_such_api_path(request: web.Request) -> bool:
    """Whether only the patient page's static files (registered at ``/``) match this ``/api/``
    path: they would answer an empty 404, or a 405 for other methods."""
    resource = request.match_info.route.resource
    if resource is not None and not isinstance(resource, web.StaticResource):
        return False
    for candidate in request.app.router.resources():
        if not isinstance(candidate, web.StaticResource):
            found, allowed = await candidate.resolve(request)
            if found is not None or allowed:
                return False
    return True


async def _read_body(request: web.Request) -> bool:
    """Read the body before any handler, bounded in size and time; False if the client left.

    Handlers then read it from memory (``request.read()`` keeps it), so no handler waits on a
    slow client and every route has the same limit, counted even without ``Content-Length``.
    """
    if not request.body_exists:
        return True
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PayloadTooLarge("request body too large")
    try:
        async with asyncio.timeout(request.app.get(BODY_TIMEOUT_S, DEFAULT_BODY_TIMEOUT_S)):
            body = await request.read()
    except TimeoutError as exc:
        raise RequestTimeout("the request body did not arrive in time") from exc
    except ConnectionError:
        return False
    if len(body) > MAX_BODY:
        raise PayloadTooLarge("request body too large")
    return True


# ------------------------------------------------------------------ headers
def harden(app: web.Application, settings: Settings) -> None:
    """Security headers on every response, and the body-read timeout from ``settings``.

    HSTS goes out when the request came over TLS, or when the server's public address is
    https (TLS ends at a proxy; browsers ignore HSTS received over plain http anyway).
    ``X-Forwarded-Proto`` is not trusted: any client could send it. ``X-Forwarded-For`` is,
    from the proxies ``settings.trusted_proxies`` names (:func:`~.endpoint.client_ip`).
    """
    app[BODY_TIMEOUT_S] = settings.request_body_timeout_s
    app[TRUSTED_PROXIES] = trusted_networks(settings.trusted_proxies)
    public_https = settings.public_base_url.lower().startswith("https://")

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        _secure(response)
        if public_https or request.secure:
            response.headers["Strict-Transport-Security"] = HSTS

    app.on_response_prepare.append(add_headers)


def _secure(response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


# ------------------------------------------------------------------ before the application
class _JsonErrorProtocol(RequestHandler):
    """aiohttp's connection handler, answering what it rejects before routing (a malformed
    request, an oversize header) and failures outside ``/api/`` in the JSON error shape.

    aiohttp's own answer is plain text that echoes the offending bytes (a header may hold a
    token) and names the aiohttp version.
    """

    __slots__ = ()

    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None
                     ) -> web.StreamResponse:
        if isinstance(exc, LineTooLong):
            status = 431  # a header (or the request line) over max_field_size
        if status >= 500:
            self.log_exception("error handling a request from %s", request.remote, exc_info=exc)
        else:  # the client's mistake: one line, never its bytes (not HTTP at all: debug)
            level = logging.DEBUG if isinstance(exc, BadHttpMethod) else logging.INFO
            self.logger.log(level, "rejected a malformed request from %s: %s %s",
                            request.remote, status, type(exc).__name__ if exc else "")
        if request.writer.output_size > 0:  # as aiohttp: a response is already on its way
            raise ConnectionError("response already started: cannot send an error")
        response = error_response(status, _HTTP_CODES.get(status, "HTTP_ERROR"),
                                  HTTPStatus(status).phrase)
        _secure(response)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorProtocol(self, loop=self._loop, **self._kwargs)


class HardenedRunner(web.AppRunner):
    """``web.AppRunner`` whose connections use :class:`_JsonErrorProtocol`.

    aiohttp offers no setting for the protocol class, so the server it builds is given this
    subclass, which only changes what each new connection's handler is.
    ``tests/security/test_http_hardening.py`` notices if an aiohttp upgrade breaks this.
    """

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server
