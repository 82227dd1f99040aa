"""Issue 14 rows 5 and 9b: access tokens die with their account or session, and odd claims in
a well-signed token are a 401, not a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.http.principal import Role
from dhanvantri.platform import keys
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.tokens import ALGORITHM, CHECK_SECONDS, ISSUER
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings
from tests.platform.helpers import Person, login_patient, make_staff

API = "/api/v1"


async def error_of(response: Any) -> tuple[int, str]:
    body = await response.json()
    assert set(body["error"]) == {"code", "message", "details"}
    return response.status, body["error"]["code"]


async def test_a_deactivated_patients_token_stops_working(client: TestClient, services: Any,
                                                          outbox: OutboxNotifier,
                                                          clock: ManualClock) -> None:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    assert (await client.get(f"{API}/me", headers=patient.headers)).status == 200
    response = await client.delete(f"{API}/users/{patient.user_id}", headers=admin.headers)
    assert response.status == 204
    # The process that deactivated the account stops its tokens at once; another process
    # trusts a passed check for CHECK_SECONDS, far less than the token's 15 minutes.
    for method, path, body in [("GET", "/me", None),
                               ("PATCH", "/me/patient-profile", {"allergies": ["sulfa"]}),
                               ("POST", "/wallet/topup", {"amount": "500.00"})]:
        response = await client.request(method, API + path, headers=patient.headers, json=body)
        assert await error_of(response) == (401, "ACCOUNT_DISABLED"), path


async def test_logout_ends_the_sessions_access_token_at_once(client: TestClient,
                                                             outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    other_device = await login_patient(client, outbox)  # a second session of the same patient
    assert (await client.get(f"{API}/me", headers=patient.headers)).status == 200
    response = await client.post(f"{API}/auth/logout", headers=patient.headers,
                                 json={"refresh_token": patient.refresh})
    assert response.status == 204
    response = await client.get(f"{API}/me", headers=patient.headers)
    assert await error_of(response) == (401, "TOKEN_INVALID")
    # Only that session ended.
    assert (await client.get(f"{API}/me", headers=other_device.headers)).status == 200


async def test_refresh_token_reuse_ends_the_sessions_access_tokens(
        client: TestClient, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": patient.refresh})
    rotated = await response.json()
    rotated_headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await client.get(f"{API}/me", headers=rotated_headers)).status == 200
    # Someone replays the stolen first refresh token: the whole session is revoked.
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": patient.refresh})
    assert await error_of(response) == (401, "TOKEN_REUSED")
    for headers in (patient.headers, rotated_headers):
        response = await client.get(f"{API}/me", headers=headers)
        assert await error_of(response) == (401, "TOKEN_INVALID")


@asynccontextmanager
async def second_process(settings: Settings, clock: ManualClock) -> AsyncIterator[TestClient]:
    app = web.Application()
    install(app, settings, notifier=OutboxNotifier(), clock=clock)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_another_process_sees_the_logout_within_its_check_interval(
        client: TestClient, settings: Settings, outbox: OutboxNotifier,
        clock: ManualClock) -> None:
    patient = await login_patient(client, outbox)
    async with second_process(settings, clock) as other:
        assert (await other.get(f"{API}/me", headers=patient.headers)).status == 200
        response = await client.post(f"{API}/auth/logout", headers=patient.headers,
                                     json={"refresh_token": patient.refresh})
        assert response.status == 204
        clock.advance(seconds=CHECK_SECONDS)
        response = await other.get(f"{API}/me", headers=patient.headers)
        assert await error_of(response) == (401, "TOKEN_INVALID")


def forged(settings: Settings, clock: ManualClock, person: Person, **claims: Any) -> str:
    """A token signed with the server's own key, with some claims replaced."""
    now = int(clock().timestamp())
    base = {"sub": str(person.user_id), "role": "patient", "iss": ISSUER, "typ": "access",
            "iat": now, "exp": now + 600}
    return jwt.encode({**base, **claims}, keys.jwt_secret(settings), algorithm=ALGORITHM)


@pytest.mark.parametrize("claims", [
    {"exp": "tomorrow"}, {"exp": "9999999999"}, {"exp": True}, {"exp": float("nan")},
    {"exp": [1]}, {"sid": "not-a-session"}])
async def test_odd_claims_in_a_signed_token_are_401(client: TestClient, settings: Settings,
                                                    outbox: OutboxNotifier, clock: ManualClock,
                                                    claims: dict[str, Any]) -> None:
    patient = await login_patient(client, outbox)
    token = forged(settings, clock, patient, **claims)
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert await error_of(response) == (401, "TOKEN_INVALID")
    # The same key and claims, well-formed, do pass: the key is the server's own.
    token = forged(settings, clock, patient)
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    assert uuid.UUID((await response.json())["id"]) == patient.user_id
