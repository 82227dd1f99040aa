"""Issue 14 row 16: a TOTP code works once, and the admin login does not say whether the
password was right until both factors pass."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pyotp
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from tests.platform.helpers import PASSWORD, Person, make_staff

API = "/api/v1"


async def login(client: TestClient, admin: Person, password: str, code: str | None = None
                ) -> tuple[int, Any]:
    body = {"email": admin.email, "password": password}
    if code is not None:
        body["totp_code"] = code
    response = await client.post(f"{API}/auth/login", json=body)
    return response.status, await response.json()


async def test_a_totp_code_is_single_use(client: TestClient, services: Services,
                                         clock: ManualClock) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    assert admin.totp_secret
    totp = pyotp.TOTP(admin.totp_secret)
    clock.advance(seconds=30)
    code = totp.at(clock())
    assert (await login(client, admin, PASSWORD, code))[0] == 200
    status, body = await login(client, admin, PASSWORD, code)  # replayed, same 30 s
    assert (status, body["error"]["code"]) == (401, "INVALID_CREDENTIALS")
    # Nor does the previous step's code, still inside the drift window, come back.
    previous = totp.at(clock() - timedelta(seconds=30))
    assert (await login(client, admin, PASSWORD, previous))[0] == 401
    clock.advance(seconds=30)
    assert (await login(client, admin, PASSWORD, totp.at(clock())))[0] == 200


async def test_racing_logins_with_one_code_let_one_in(client: TestClient, services: Services,
                                                      clock: ManualClock) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    assert admin.totp_secret
    clock.advance(seconds=30)
    code = pyotp.TOTP(admin.totp_secret).at(clock())
    results = await asyncio.gather(*(login(client, admin, PASSWORD, code) for _ in range(4)))
    assert sorted(status for status, _ in results) == [200, 401, 401, 401]


async def test_one_answer_until_both_factors_pass(client: TestClient, services: Services,
                                                  clock: ManualClock) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    assert admin.totp_secret
    clock.advance(seconds=30)
    code = pyotp.TOTP(admin.totp_secret).at(clock())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [await login(client, admin, PASSWORD + "x"),  # wrong password, no code
               await login(client, admin, PASSWORD),  # right password, no code
               await login(client, admin, PASSWORD + "x", code),  # wrong password, right code
               await login(client, admin, PASSWORD, wrong)]  # right password, wrong code
    assert answers[0][0] == 401
    assert all(answer == answers[0] for answer in answers), answers
    assert (await login(client, admin, PASSWORD, code))[0] == 200
