"""The ``Idempotency-Key`` header on money-moving requests, and running them once per key."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ...http.endpoint import ok
from ...http.errors import ValidationFailed
from ...http.principal import Principal
from ..commerce.idempotency import Work, run_once
from .common import services

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def key(request: web.Request) -> str:
    """The request's key; 422 naming the header when missing or malformed."""
    value = request.headers.get(HEADER, "")
    if not _KEY.match(value):
        raise ValidationFailed.field(HEADER, "required: 8-128 letters, digits or ._:-")
    return value


async def respond(request: web.Request, principal: Principal, operation: str, body: Any,
                  work: Work) -> web.Response:
    """Run ``work`` once for this caller's key; a replay gets the first answer again."""
    idem = key(request)
    status, response = await run_once(services(request).uow, principal.user_id, idem,
                                      operation, body, work)
    return ok(response, status=status)
