"""``install_endpoints``: the permission an endpoint names is the one enforced, before its
handler; guests, tokens in the query string or a WebSocket's first message; enum paths."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.http.auth import AUTHENTICATOR, REQUIRE_AUTH, authorize, caller, optional_caller
from dhanvantri.http.endpoint import Endpoint, install_endpoints
from dhanvantri.http.errors import Unauthorized
from dhanvantri.http.middleware import error_middleware
from dhanvantri.http.openapi import OPENAPI
from dhanvantri.http.permissions import Perm
from dhanvantri.http.principal import Principal, Role

PATIENT, PHYSICIAN = uuid.uuid4(), uuid.uuid4()
TOKENS = {"patient": Principal(PATIENT, Role.PATIENT),
          "doctor": Principal(PHYSICIAN, Role.PHYSICIAN)}
seen: list[Any] = []


def authenticate(token: str) -> Principal:
    if token not in TOKENS:
        raise Unauthorized("invalid access token", code="TOKEN_INVALID")
    return TOKENS[token]


async def who(request: web.Request) -> web.Response:
    seen.append(request.match_info.get("mode"))
    return web.json_response({"user": str(caller(request).user_id)})


async def maybe(request: web.Request) -> web.Response:
    principal = optional_caller(request)
    return web.json_response({"user": str(principal.user_id) if principal else None})


async def late(request: web.Request) -> web.Response:
    # As a WebSocket whose token comes in its first message: here, in a header read late.
    principal = optional_caller(request) or await authorize(request,
                                                             request.headers.get("X-Late"))
    return web.json_response({"user": str(principal.user_id)})


ENDPOINTS = [
    Endpoint("GET", "/who/{mode}", who, "Who calls", "test", Perm.ESCALATIONS,
             responses={200: "the caller"}, params={"mode": {"type": "string",
                                                             "enum": ["listen", "leave"]}}),
    Endpoint("GET", "/maybe", maybe, "Guests welcome", "test", Perm.CONSULT,
             responses={200: "the caller, if any"}, guests=True, token_query="access_token"),
    Endpoint("GET", "/late", late, "Token after the request", "test", Perm.ESCALATIONS,
             responses={200: "the caller"}, token_query="token", token_message=True),
]


def app_with(require_auth: bool) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app[AUTHENTICATOR] = authenticate
    app[REQUIRE_AUTH] = require_auth
    install_endpoints(app, ENDPOINTS)
    return app


@pytest.fixture(params=[False, True], ids=["guests", "sign-in"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app_with(request.param))) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def error(response: Any) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def test_the_named_permission_is_checked_before_the_handler(client: TestClient) -> None:
    seen.clear()
    assert await error(await client.get("/api/v1/who/listen")) == (401, "UNAUTHORIZED")
    assert await error(await client.get("/api/v1/who/listen", headers=bearer("nope"))
                       ) == (401, "TOKEN_INVALID")
    assert await error(await client.get("/api/v1/who/listen", headers=bearer("patient"))
                       ) == (403, "FORBIDDEN")
    assert seen == []  # the handler never ran
    response = await client.get("/api/v1/who/leave", headers=bearer("doctor"))
    assert (await response.json())["user"] == str(PHYSICIAN) and seen == ["leave"]
    # An enum parameter limits what the route matches.
    assert await error(await client.get("/api/v1/who/shutdown", headers=bearer("doctor"))
                       ) == (404, "NOT_FOUND")


async def test_guests_unless_sign_in_is_required(client: TestClient) -> None:
    anonymous = await client.get("/api/v1/maybe")
    if client.app[REQUIRE_AUTH]:
        assert await error(anonymous) == (401, "UNAUTHORIZED")
        assert await error(await client.get("/api/v1/maybe", headers=bearer("doctor"))
                           ) == (403, "FORBIDDEN")
        by_query = await client.get("/api/v1/maybe", params={"access_token": "patient"})
        assert (await by_query.json())["user"] == str(PATIENT)
    else:
        assert (await anonymous.json())["user"] is None
        # A signed-in caller stays who they are when guests are welcome (their consultation
        # is recorded); a token is still checked, never quietly turned into a guest.
        signed_in = await client.get("/api/v1/maybe", headers=bearer("patient"))
        assert (await signed_in.json())["user"] == str(PATIENT)
        assert await error(await client.get("/api/v1/maybe", headers=bearer("nope"))
                           ) == (401, "TOKEN_INVALID")
        assert await error(await client.get("/api/v1/maybe", headers=bearer("doctor"))
                           ) == (403, "FORBIDDEN")


async def test_a_late_token_meets_the_same_permission(client: TestClient) -> None:
    assert await error(await client.get("/api/v1/late", params={"token": "patient"})
                       ) == (403, "FORBIDDEN")
    assert await error(await client.get("/api/v1/late")) == (401, "UNAUTHORIZED")
    assert await error(await client.get("/api/v1/late", headers={"X-Late": "patient"})
                       ) == (403, "FORBIDDEN")
    response = await client.get("/api/v1/late", headers={"X-Late": "doctor"})
    assert (await response.json())["user"] == str(PHYSICIAN)


def test_the_document_says_who_may_call() -> None:
    paths = app_with(False)[OPENAPI].document()["paths"]
    who = paths["/api/v1/who/{mode}"]["get"]
    assert who["security"] == [{"bearer": []}] and who["x-roles"] == ["physician"]
    assert who["parameters"][0]["schema"]["enum"] == ["listen", "leave"]
    assert {"401", "403", "404"} <= set(who["responses"])
    guests = paths["/api/v1/maybe"]["get"]
    assert guests["security"] == [{}, {"bearer": []}] and "DHANVANTRI_REQUIRE_AUTH" in \
        guests["description"]
    assert [p["name"] for p in guests["parameters"]] == ["access_token"]
    assert paths["/api/v1/late"]["get"]["security"] == [{}, {"bearer": []}]
