"""Endpoint declarations, their installation and request parsing, shared by every area.

One list of :class:`Endpoint` per area drives routing, validation, the permission check and the
OpenAPI document. :func:`install_endpoints` may be called again for more endpoints (an area that
adds one later lands in the same document).
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from . import openapi
from .auth import REQUIRE_AUTH, REQUIRED, authorize, bearer_token
from .errors import PayloadTooLarge, ValidationFailed
from .permissions import Perm, roles_with

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)
MAX_BODY = 512 * 1024


@dataclass(frozen=True)
class Endpoint:
    """One route: what aiohttp serves and what the OpenAPI document says about it.

    Attributes:
        method: the HTTP method.
        path: relative to ``/api/v1``; its ``{name}`` parameters are UUIDs unless ``params``
            gives their JSON schema (an ``enum`` there also limits what the route matches).
        handler: reads the caller with :func:`~dhanvantri.http.auth.caller`.
        summary: one line for the document.
        tag: the document's group; also prefixes the operation id.
        perm: the permission checked before the handler runs; None: public.
        body: the JSON request body's model (the handler parses it with :func:`parse_body`).
        query: the query string's model (the handler parses it with :func:`parse_query`).
        responses: status and description of each outcome the endpoint itself produces (the
            401/403/404/409/422 problems every endpoint of its kind can meet are added).
        response: the success body's model (the first 2xx in ``responses``).
        content_type: the success body's media type.
        rate_limited: may answer 429.
        headers: required request headers (e.g. ``Idempotency-Key``).
        description: more text for the document.
        params: JSON schemas of path parameters that are not UUIDs.
        guests: ``perm`` is checked only when the application requires sign-in
            (``app[REQUIRE_AUTH]``, ``DHANVANTRI_REQUIRE_AUTH``); guests may call it otherwise.
        token_query: a query parameter that may carry the bearer token (browsers cannot set
            headers on a WebSocket).
        token_message: a WebSocket whose token may also come in its first message: with no
            token in the request the handler upgrades, then calls
            :func:`~dhanvantri.http.auth.authorize` with it.
        body_optional: the request body may be left out.
    """

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    perm: Perm | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict[int, str] = field(default_factory=dict)
    response: type[BaseModel] | None = None
    content_type: str = "application/json"
    rate_limited: bool = False
    headers: tuple[str, ...] = ()
    description: str = ""
    params: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    guests: bool = False
    token_query: str | None = None
    token_message: bool = False
    body_optional: bool = False

    @property
    def websocket(self) -> bool:
        """Whether the endpoint upgrades to a WebSocket (it documents a 101 response)."""
        return 101 in self.responses

    def route(self) -> str:
        """The aiohttp route: enum parameters become ``{name:a|b}``."""
        def pattern(match: re.Match[str]) -> str:
            name = match.group(1)
            choices = self.params.get(name, {}).get("enum")
            return f"{{{name}:{'|'.join(map(re.escape, choices))}}}" if choices else match.group(0)

        return openapi.PREFIX + openapi.PATH_PARAM.sub(pattern, self.path)


def install_endpoints(app: web.Application, endpoints: list[Endpoint]) -> None:
    """Serve ``endpoints`` under ``/api/v1`` and describe them in the OpenAPI document.

    The permission an endpoint names is checked here, before its handler runs. Call while
    building the application, once per area (or again for an endpoint added later).
    """
    docs = openapi.registry(app)
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.route(), _guarded(endpoint))
        _describe(docs, endpoint)


def _guarded(endpoint: Endpoint) -> Handler:
    perm, handler = endpoint.perm, endpoint.handler
    if perm is None:
        return handler

    async def guarded(request: web.Request) -> web.StreamResponse:
        request[REQUIRED] = perm
        token = bearer_token(request)
        if token is None and endpoint.token_query:
            token = request.query.get(endpoint.token_query) or None
        if endpoint.guests and not request.app.get(REQUIRE_AUTH, False):
            # Guests are welcome, but a signed-in caller is still who they say (their
            # consultation is recorded); a bad token is refused, not silently made a guest.
            if token is not None:
                await authorize(request, token)
            return await handler(request)
        if token is not None or not endpoint.token_message:
            await authorize(request, token)
        return await handler(request)

    guarded.__name__ = handler.__name__
    return guarded


# ------------------------------------------------------------------ the OpenAPI document
UUID = {"type": "string", "format": "uuid"}
BEARER: dict[str, list[str]] = {"bearer": []}
_NO_BODY = (101, 204)


def _describe(docs: openapi.OpenApiRegistry, endpoint: Endpoint) -> None:
    operation: dict[str, Any] = {
        "operationId": f"{endpoint.tag}_{endpoint.handler.__name__}",
        "summary": endpoint.summary, "tags": [endpoint.tag],
        "parameters": _parameters(docs, endpoint), "responses": _responses(docs, endpoint),
        "security": _security(endpoint)}
    description = " ".join(filter(None, [endpoint.description, _roles_note(endpoint)]))
    if description:
        operation["description"] = description
    if endpoint.perm is not None:
        operation["x-roles"] = [r.value for r in roles_with(endpoint.perm)]
    if endpoint.body is not None:
        operation["requestBody"] = {"required": not endpoint.body_optional, "content": {
            "application/json": {"schema": docs.model_ref(endpoint.body)}}}
    docs.add_operation(openapi.PREFIX + endpoint.path, endpoint.method, operation)


def _parameters(docs: openapi.OpenApiRegistry, endpoint: Endpoint) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": endpoint.params.get(name, UUID)}
        for name in openapi.path_names(endpoint.path)]
    if endpoint.query is not None:
        params += docs.query_parameters(endpoint.query)
    if endpoint.token_query:
        params.append({"name": endpoint.token_query, "in": "query", "required": False,
                       "description": "the bearer token (browsers cannot set headers on a "
                                      "WebSocket)", "schema": {"type": "string"}})
    params += [{"name": name, "in": "header", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"}}
               for name in endpoint.headers]
    return params


def _responses(docs: openapi.OpenApiRegistry, endpoint: Endpoint) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {
        "$ref": openapi.REF.format(model="Error")}}}}
    success = min((s for s in endpoint.responses if s < 300), default=None)
    responses: dict[str, Any] = {}
    for status, text in endpoint.responses.items():
        body: dict[str, Any] = {"description": text}
        if status >= 400:
            body |= error
        elif status not in _NO_BODY:
            body["content"] = {endpoint.content_type: {
                "schema": _success_schema(docs, endpoint, status == success)}}
        responses[str(status)] = body
    for problem, text in _problems(endpoint).items():
        responses.setdefault(problem, {"description": text, **error})
    return responses


def _success_schema(docs: openapi.OpenApiRegistry, endpoint: Endpoint, first: bool
                    ) -> dict[str, Any]:
    if endpoint.content_type != "application/json":
        return {"type": "string", "format": "binary"}
    if endpoint.response is not None and first:
        return docs.model_ref(endpoint.response)
    return {"type": "object"}


def _problems(endpoint: Endpoint) -> dict[str, str]:
    """The error statuses an endpoint of this kind can meet, whatever its handler does."""
    problems = {"422": "invalid input (names the field)"}
    if endpoint.perm is not None:
        problems |= {"401": "missing, invalid or expired token", "403": "role not allowed"}
    if openapi.path_names(endpoint.path):
        problems |= {"404": "not found"}
    if endpoint.method in ("POST", "PUT", "PATCH", "DELETE"):
        problems |= {"409": "state does not allow this"}
    if endpoint.body is not None:
        problems |= {"413": "body too large"}
    if endpoint.rate_limited or endpoint.path.startswith("/auth/"):
        problems |= {"401": "wrong credentials or code", "429": "rate limited"}
    if endpoint.websocket:
        problems |= {"400": "not a WebSocket upgrade request"}
    return problems


def _security(endpoint: Endpoint) -> list[dict[str, list[str]]]:
    if endpoint.perm is None:
        return []
    if endpoint.guests or endpoint.token_message:
        return [{}, BEARER]  # a guest, or a token that comes after the upgrade
    return [BEARER]


def _roles_note(endpoint: Endpoint) -> str:
    if endpoint.perm is None:
        return ""
    roles = ", ".join(r.value for r in roles_with(endpoint.perm))
    if endpoint.guests:
        return ("A bearer token is required by default; with DHANVANTRI_REQUIRE_AUTH=0 "
                f"guests may call this too (demos). Roles: {roles}.")
    return f"Roles: {roles}."


# ------------------------------------------------------------------ parsing requests
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
    """The JSON body validated by ``model``; 422 naming the field (``INVALID_JSON`` when the
    body is not JSON), 413 when it is too large."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PayloadTooLarge("request body too large")
    raw = await request.read()
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # too deeply nested too
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


# ------------------------------------------------------------------ the client's address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# The proxies whose X-Forwarded-For is believed (DHANVANTRI_TRUSTED_PROXIES); none when unset.
TRUSTED_PROXIES = web.AppKey("dhanvantri.http.trusted_proxies", tuple[Network, ...])


def trusted_networks(text: str) -> tuple[Network, ...]:
    """``DHANVANTRI_TRUSTED_PROXIES`` read: comma-separated addresses or CIDR blocks.

    Raises:
        ValueError: an entry is neither.
    """
    return tuple(ipaddress.ip_network(entry, strict=False)
                 for entry in (part.strip() for part in text.split(",")) if entry)


def client_ip(request: web.Request) -> str:
    """The client's address, as the per-address limits count it.

    The peer's address, unless the peer is a trusted proxy (``app[TRUSTED_PROXIES]``): then
    :func:`forwarded_client` reads ``X-Forwarded-For``.
    """
    peer = request.remote or "unknown"
    trusted = request.config_dict.get(TRUSTED_PROXIES, ())
    if not trusted:
        return peer
    return forwarded_client(peer, request.headers.getall("X-Forwarded-For", ()), trusted)


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]
                     ) -> str:
    """The right-most address of ``X-Forwarded-For`` that is not a trusted proxy.

    Each proxy appends the address it received the request from, so the list is read from the
    right, hop by hop, while the hop that wrote the entry is trusted; whatever lies further left
    was written by the client and may be anything. A peer that is not trusted gets no say.

    Args:
        peer: the direct peer's address.
        forwarded_for: the header's values in the order received (several lines are one list).
        trusted: the trusted proxies.

    Returns:
        ``peer`` when it is not trusted; else the first untrusted hop from the right; if every
        hop is trusted, the left-most; at an entry that is not an address, the last trusted
        hop (the proxy that passed it on).
    """
    nearest = _address(peer)
    if nearest is None or not _is_trusted(nearest, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed([h for h in hops if h]):
        address = _address(hop)
        if address is None:
            break
        nearest = address
        if not _is_trusted(address, trusted):
            break
    return str(nearest)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)
