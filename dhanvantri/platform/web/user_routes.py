"""Staff accounts (admins create them; support can look them up)."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.permissions import Perm
from ...http.principal import Role
from .. import users
from .common import actor_for, services
from .schemas import Account, AccountList, StaffCreated, StaffIn, UserListQuery


async def create_user(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, StaffIn)
    new = users.NewStaff(**{**body.model_dump(), "role": Role(body.role)})
    result = await users.create_staff(services(request).uow(), actor_for(request, principal),
                                         new)
    return ok(result, status=201)


async def list_users(request: web.Request) -> web.Response:
    query = parse_query(request, UserListQuery)
    found = await users.list_users(services(request).uow(), query.role, query.limit,
                                      query.offset)
    return ok({"items": found})


async def get_user(request: web.Request) -> web.Response:
    return ok(await users.get_user(services(request).uow(), path_uuid(request)))


async def deactivate_user(request: web.Request) -> web.Response:
    principal, user_id = caller(request), path_uuid(request)
    await users.deactivate_user(services(request).uow(), actor_for(request, principal), user_id)
    services(request).tokens.checked.forget_user(user_id)  # its tokens stop here at once
    return web.Response(status=204)


ENDPOINTS = [
    Endpoint("POST", "/users", create_user, "Create a staff account (admins get TOTP enrolled)",
             "users", Perm.USERS_WRITE, StaffIn, responses={201: "created"},
             response=StaffCreated),
    Endpoint("GET", "/users", list_users, "List accounts", "users", Perm.USERS_READ,
             query=UserListQuery, responses={200: "accounts"}, response=AccountList),
    Endpoint("GET", "/users/{id}", get_user, "One account", "users", Perm.USERS_READ,
             responses={200: "account"}, response=Account),
    Endpoint("DELETE", "/users/{id}", deactivate_user, "Deactivate an account (soft delete)",
             "users", Perm.USERS_WRITE, responses={204: "deactivated"}),
]
