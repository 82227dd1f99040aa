"""Endpoint declarations and request parsing shared by the route modules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ..bootstrap import SERVICES, Services
from ..errors import ValidationFailed
from ..permissions import Perm

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)
MAX_BODY = 512 * 1024


@dataclass(frozen=True)
class Endpoint:
    """One route: what aiohttp serves and what the OpenAPI document says about it."""

    method: str
    path: str  # relative to /api/v1
    handler: Handler
    summary: str
    tag: str
    perm: Perm | None  # None: public
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict[int, str] = field(default_factory=dict)
    content_type: str = "application/json"
    rate_limited: bool = False
    headers: tuple[str, ...] = ()  # required request headers (e.g. Idempotency-Key)


def services(request: web.Request) -> Services:
    """The back office's services stored on the application."""
    return request.app[SERVICES]


def _errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "body"
        out.append({"field": f"{prefix}{path}", "message": err["msg"]})
    return out


def _fail(details: list[dict[str, str]]) -> ValidationFailed:
    fields = ", ".join(d["field"] for d in details)
    return ValidationFailed(f"invalid input: {fields}", details=details)


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The JSON body validated by ``model``; 422 naming the field, 400 for broken JSON."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ValidationFailed("request body too large", code="PAYLOAD_TOO_LARGE")
    raw = await request.read()
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("body is not valid JSON", code="INVALID_JSON",
                               details=[{"field": "body", "message": "invalid JSON"}]) from exc
    if not isinstance(data, dict):
        raise _fail([{"field": "body", "message": "must be a JSON object"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _fail(_errors(exc)) from exc


def parse_query(request: web.Request, model: type[M]) -> M:
    """Query parameters validated by ``model``."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise _fail(_errors(exc)) from exc


def path_uuid(request: web.Request, name: str = "id") -> uuid.UUID:
    """A UUID path parameter (422 naming it when malformed)."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError as exc:
        raise ValidationFailed.field(name, "must be a UUID") from exc


def ok(body: Any, status: int = 200) -> web.Response:
    """A JSON response."""
    return web.json_response(body, status=status)


def client_ip(request: web.Request) -> str:
    """The peer address (proxies are not trusted by default)."""
    return request.remote or "unknown"
