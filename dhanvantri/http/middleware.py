"""The one place where errors become HTTP: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from aiohttp import web

from .auth import REQUEST_ID
from .errors import ApiError

log = logging.getLogger(__name__)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE", 413: "PAYLOAD_TOO_LARGE",
               415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED"}


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
        response = await handler(request)
    except ApiError as exc:
        headers = None
        if exc.status == 429 and isinstance(exc.details, dict):
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
                      request.match_info.route.resource.canonical
                      if request.match_info.route.resource else "?", request_id)
        response = error_response(500, "INTERNAL_ERROR", "internal error",
                                  {"request_id": request_id})
    response.headers["X-Request-ID"] = request_id
    return response
