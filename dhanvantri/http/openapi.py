"""The OpenAPI 3.1 document at ``/api/v1/openapi.json``, built from the same endpoint lists that
register the routes (``endpoint.install_endpoints``), so the two cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web
from pydantic import BaseModel

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

    def model_ref(self, model: type[BaseModel]) -> dict[str, str]:
        """A ``$ref`` to ``model``'s schema, which is added to the components."""
        schema = model.model_json_schema(ref_template=REF)
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas[name] = sub
        self.schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    def query_parameters(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        """The query parameters that ``model`` validates."""
        schema = model.model_json_schema(ref_template=REF)
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas[name] = sub
        required = set(schema.get("required", []))
        return [{"name": name, "in": "query", "required": name in required, "schema": prop}
                for name, prop in schema.get("properties", {}).items()]

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


OPENAPI = web.AppKey("dhanvantri.http.openapi", OpenApiRegistry)


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
