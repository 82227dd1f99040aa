"""The OpenAPI 3.1 document at ``/api/v1/openapi.json``, built from the same endpoint lists that
register the routes (``endpoint.install_endpoints``), so the two cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$",
                                "description": "UPPER_SNAKE; see the README's Errors table"},
                       "message": {"type": "string"}, "details": {}}}},
}
PATH_PARAM = re.compile(r"{(\w+)}")


class OpenApiRegistry:
    """Collects operations and component schemas; renders the document.

    ``endpoint.install_endpoints`` adds each endpoint's operation.
    """

    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
        self._operation_ids: set[str] = set()

    def add_operation(self, path: str, method: str, operation: dict[str, Any]) -> None:
        """Add one operation (``path`` in full, e.g. ``/api/v1/me``); operation ids are unique."""
        operation_id = operation["operationId"]
        if operation_id in self._operation_ids:
            raise ValueError(f"two operations are named {operation_id}")
        self._operation_ids.add(operation_id)
        self.paths.setdefault(path, {})[method.lower()] = operation

    def model_ref(self, model: type[BaseModel]) -> dict[str, str]:
        """A ``$ref`` to ``model``'s schema, which is added to the components."""
        schema = model.model_json_schema(ref_template=REF)
        self._add_schemas({**schema.pop("$defs", {}), model.__name__: schema})
        return {"$ref": REF.format(model=model.__name__)}

    def query_parameters(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        """The query parameters that ``model`` validates."""
        schema = model.model_json_schema(ref_template=REF)
        self._add_schemas(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        return [{"name": name, "in": "query", "required": name in required, "schema": prop}
                for name, prop in schema.get("properties", {}).items()]

    def _add_schemas(self, schemas: dict[str, Any]) -> None:
        for name, schema in schemas.items():
            if self.schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas are named {name}")

    def document(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document."""
        return {
            "openapi": "3.1.0",
            "info": {"title": "Dhanvantri API", "version": "1",
                     "description": "Consultations, the physician desk, accounts, prescriptions "
                                    "(AI draft to signed release), commerce and the audit "
                                    "trail. Errors: {\"error\": {code, message, details}}."},
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


def path_names(path: str) -> list[str]:
    """The ``{name}`` parameters of a path, in order."""
    return PATH_PARAM.findall(path)


async def openapi_document(request: web.Request) -> web.Response:
    """``GET /api/v1/openapi.json``."""
    return web.json_response(request.app[OPENAPI].document())
