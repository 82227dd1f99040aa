"""Endpoint declarations, their installation and request parsing, shared by every area."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from . import openapi
from .auth import require
from .errors import ValidationFailed
from .permissions import Perm, roles_with

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
    response: type[BaseModel] | None = None  # the success body (the first 2xx in responses)
    content_type: str = "application/json"
    rate_limited: bool = False
    headers: tuple[str, ...] = ()  # required request headers (e.g. Idempotency-Key)


def install_endpoints(app: web.Application, endpoints: list[Endpoint]) -> None:
    """Serve ``endpoints`` under ``/api/v1`` and describe them in the OpenAPI document.

    The permission an endpoint names is checked here, before its handler runs; handlers read
    the caller with :func:`~dhanvantri.http.auth.caller`.
    """
    docs = openapi.registry(app)
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, openapi.PREFIX + endpoint.path, _guarded(endpoint))
        _describe(docs, endpoint)


def _describe(docs: openapi.OpenApiRegistry, endpoint: Endpoint) -> None:
    path = openapi.PREFIX + endpoint.path
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "format": "uuid"}}
        for name in re.findall(r"{(\w+)}", endpoint.path)]
    if endpoint.query is not None:
        params += docs.query_parameters(endpoint.query)
    params += [{"name": name, "in": "header", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"}}
               for name in endpoint.headers]
    error_ref = {"$ref": openapi.REF.format(model="Error")}
    error = {"content": {"application/json": {"schema": error_ref}}}
    responses: dict[str, Any] = {}
    success = min((s for s in endpoint.responses if 200 <= s < 300), default=None)
    for status, text in endpoint.responses.items():
        body: dict[str, Any] = {"description": text}
        if status != 204:
            schema: dict[str, Any]
            if endpoint.content_type != "application/json":
                schema = {"type": "string", "format": "binary"}
            elif endpoint.response is not None and status == success:
                schema = docs.model_ref(endpoint.response)
            else:
                schema = {"type": "object"}
            body["content"] = {endpoint.content_type: {"schema": schema}}
        responses[str(status)] = body
    problems = {"422": "invalid input (names the field)"}
    if endpoint.perm is not None:
        problems |= {"401": "missing, invalid or expired token",
                     "403": "role not allowed"}
    if "{id}" in endpoint.path:
        problems |= {"404": "not found"}
    if endpoint.method in ("POST", "PUT", "PATCH", "DELETE"):
        problems |= {"409": "state does not allow this"}
    if endpoint.rate_limited or endpoint.path.startswith("/auth/"):
        problems |= {"401": "wrong credentials or code", "429": "rate limited"}
    for problem, text in problems.items():
        responses.setdefault(problem, {"description": text, **error})
    operation: dict[str, Any] = {
        "operationId": f"{endpoint.tag}_{endpoint.handler.__name__}",
        "summary": endpoint.summary, "tags": [endpoint.tag], "parameters": params,
        "responses": responses,
    }
    if endpoint.perm is None:
        operation["security"] = []
    else:
        roles = [r.value for r in roles_with(endpoint.perm)]
        operation["security"] = [{"bearer": []}]
        operation["description"] = f"Roles: {', '.join(roles)}."
        operation["x-roles"] = roles
    if endpoint.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": docs.model_ref(endpoint.body)}}}
    docs.paths.setdefault(path, {})[endpoint.method.lower()] = operation


def _guarded(endpoint: Endpoint) -> Handler:
    perm, handler = endpoint.perm, endpoint.handler
    if perm is None:
        return handler

    async def guarded(request: web.Request) -> web.StreamResponse:
        require(request, perm)
        return await handler(request)

    guarded.__name__ = handler.__name__
    return guarded


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
