"""The OpenAPI 3.1 document at ``/api/v1/openapi.json``, built from the same endpoint list that
registers the routes, so the two cannot drift apart. Other areas add theirs with ``add_paths``.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel

from .permissions import roles_with

if TYPE_CHECKING:
    from .web.common import Endpoint

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "details": {}}}},
}


class OpenApiRegistry:
    """Collects path items and component schemas; renders the document."""

    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def add_paths(self, paths: dict[str, dict[str, Any]],
                  schemas: dict[str, Any] | None = None) -> None:
        """Merge path items (full paths, e.g. ``/api/v1/consultations``) and component schemas."""
        for path, item in paths.items():
            self.paths.setdefault(path, {}).update(copy.deepcopy(item))
        self.schemas.update(copy.deepcopy(schemas or {}))

    def _model(self, model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=REF)
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas[name] = sub
        self.schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    def _query(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        schema = model.model_json_schema(ref_template=REF)
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas[name] = sub
        required = set(schema.get("required", []))
        return [{"name": name, "in": "query", "required": name in required, "schema": prop}
                for name, prop in schema.get("properties", {}).items()]

    def add_endpoint(self, endpoint: Endpoint) -> None:
        """Describe one of the back office's endpoints."""
        path = PREFIX + endpoint.path
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "string", "format": "uuid"}}
            for name in re.findall(r"{(\w+)}", endpoint.path)]
        if endpoint.query is not None:
            params += self._query(endpoint.query)
        params += [{"name": name, "in": "header", "required": True,
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"}}
                   for name in endpoint.headers]
        error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
        responses: dict[str, Any] = {}
        for status, text in endpoint.responses.items():
            body: dict[str, Any] = {"description": text}
            if status != 204:
                schema: dict[str, Any] = ({"type": "string", "format": "binary"}
                                          if endpoint.content_type != "application/json"
                                          else {"type": "object"})
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
        for status, text in problems.items():
            responses.setdefault(status, {"description": text, **error})
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
                "application/json": {"schema": self._model(endpoint.body)}}}
        self.paths.setdefault(path, {})[endpoint.method.lower()] = operation

    def document(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document."""
        return {
            "openapi": "3.1.0",
            "info": {"title": "Dhanvantri API", "version": "1",
                     "description": "Accounts, prescriptions (AI draft to signed release) and "
                                    "audit trail. Errors: {\"error\": {code, message, details}}."},
            "paths": {p: self.paths[p] for p in sorted(self.paths)},
            "components": {
                "schemas": dict(sorted(self.schemas.items())),
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"}}},
        }


OPENAPI = web.AppKey("dhanvantri.platform.openapi", OpenApiRegistry)


def registry(app: web.Application) -> OpenApiRegistry:
    """The application's registry, created on first use."""
    if OPENAPI not in app:
        app[OPENAPI] = OpenApiRegistry()
    return app[OPENAPI]


def add_paths(app: web.Application, paths: dict[str, dict[str, Any]],
              schemas: dict[str, Any] | None = None) -> None:
    """Add another area's OpenAPI path items (full paths) and schemas to the shared document.

    Call while building the application (before it starts).
    """
    registry(app).add_paths(paths, schemas)


async def serve(request: web.Request) -> web.Response:
    """``GET /api/v1/openapi.json``."""
    return web.json_response(request.app[OPENAPI].document())
