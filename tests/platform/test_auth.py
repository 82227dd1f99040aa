"""Logins, tokens, MFA, rate limits and the error shape."""

from __future__ import annotations

import logging

import pyotp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings

from .helpers import PASSWORD, login_patient, make_staff

API = "/api/v1"


async def test_patient_otp_login_registers_once(client: TestClient,
                                                outbox: OutboxNotifier) -> None:
    first = await login_patient(client, outbox, phone="+91 98765 43210")
    again = await login_patient(client, outbox, phone="9876543210")
    assert first.user_id == again.user_id and first.phone == "+919876543210"
    me = await (await client.get(f"{API}/me", headers=first.headers)).json()
    assert me["role"] == "patient" and me["patient"]["allergies"] == []


async def test_expired_login_otp(client: TestClient, outbox: OutboxNotifier,
                                 clock: ManualClock) -> None:
    response = await client.post(f"{API}/auth/otp/request", json={"phone": "9876543210"})
    challenge = (await response.json())["challenge_id"]
    clock.advance(seconds=301)
    response = await client.post(f"{API}/auth/otp/verify",
                                 json={"challenge_id": challenge, "code": outbox.last_code()})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "OTP_EXPIRED"


async def test_login_otp_used_once(client: TestClient, outbox: OutboxNotifier) -> None:
    response = await client.post(f"{API}/auth/otp/request", json={"phone": "9876543210"})
    body = {"challenge_id": (await response.json())["challenge_id"], "code": outbox.last_code()}
    assert (await client.post(f"{API}/auth/otp/verify", json=body)).status == 200
    response = await client.post(f"{API}/auth/otp/verify", json=body)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "OTP_USED"


async def test_landline_is_refused(client: TestClient) -> None:
    # 5876543210 parses as a valid Indian fixed line; codes only go to mobiles.
    response = await client.post(f"{API}/auth/otp/request", json={"phone": "5876543210"})
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "phone"


async def test_console_notifier_logs_code_not_response(settings: Settings,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()
    install(app, settings)  # default notifier: the server console
    async with TestClient(TestServer(app)) as client:
        with caplog.at_level(logging.WARNING, logger="dhanvantri.notify"):
            response = await client.post(f"{API}/auth/otp/request", json={"phone": "9876543210"})
        text = await response.text()
    records = [r.getMessage() for r in caplog.records if r.name == "dhanvantri.notify"]
    assert len(records) == 1
    code = records[0].rsplit(" ", 1)[1]
    assert code.isdigit() and len(code) == 6 and code not in text
    assert "9876543210" not in records[0] and "3210" in records[0]  # destination masked


async def test_access_token_expires_and_refresh_rotates(client: TestClient,
                                                        outbox: OutboxNotifier,
                                                        clock: ManualClock) -> None:
    patient = await login_patient(client, outbox)
    clock.advance(minutes=15, seconds=1)
    response = await client.get(f"{API}/me", headers=patient.headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "TOKEN_EXPIRED"
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": patient.refresh})
    assert response.status == 200
    rotated = await response.json()
    assert rotated["refresh_token"] != patient.refresh
    headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await client.get(f"{API}/me", headers=headers)).status == 200
    # Replaying the old refresh token revokes the whole family, the new one included.
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": patient.refresh})
    assert (await response.json())["error"]["code"] == "TOKEN_REUSED"
    response = await client.post(f"{API}/auth/refresh",
                                 json={"refresh_token": rotated["refresh_token"]})
    assert response.status == 401


async def test_logout_revokes_refresh(client: TestClient, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    response = await client.post(f"{API}/auth/logout", headers=patient.headers,
                                 json={"refresh_token": patient.refresh})
    assert response.status == 204
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": patient.refresh})
    assert response.status == 401


async def test_staff_password_login(client: TestClient, services: Services) -> None:
    doctor = await make_staff(client, services, Role.PHYSICIAN)
    response = await client.post(f"{API}/auth/login",
                                 json={"email": doctor.email, "password": PASSWORD + "x"})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "INVALID_CREDENTIALS"
    response = await client.post(f"{API}/auth/login",
                                 json={"email": "nobody@clinic.example", "password": PASSWORD})
    assert (await response.json())["error"]["code"] == "INVALID_CREDENTIALS"
    me = await (await client.get(f"{API}/me", headers=doctor.headers)).json()
    assert me["physician"]["registration_number"] == "KMC-123456"


async def test_admin_needs_totp(client: TestClient, services: Services,
                                clock: ManualClock) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    body = {"email": admin.email, "password": PASSWORD}
    response = await client.post(f"{API}/auth/login", json=body)
    assert response.status == 401
    # One answer until both factors pass (tests/security/test_mfa.py): no "TOTP required" hint.
    assert (await response.json())["error"]["code"] == "INVALID_CREDENTIALS"
    assert admin.totp_secret
    clock.advance(seconds=30)  # make_staff used this step's code; codes are single-use
    good = pyotp.TOTP(admin.totp_secret).at(clock())
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = await client.post(f"{API}/auth/login", json={**body, "totp_code": wrong})
    assert (await response.json())["error"]["code"] == "INVALID_CREDENTIALS"
    response = await client.post(f"{API}/auth/login", json={**body, "totp_code": good})
    assert response.status == 200


async def test_staff_can_enrol_totp(client: TestClient, services: Services,
                                    clock: ManualClock) -> None:
    doctor = await make_staff(client, services, Role.PHYSICIAN)
    uri = (await (await client.post(f"{API}/auth/mfa/setup", headers=doctor.headers)).json())
    secret = pyotp.parse_uri(uri["totp_uri"]).secret
    response = await client.post(f"{API}/auth/mfa/confirm", headers=doctor.headers,
                                 json={"code": pyotp.TOTP(secret).at(clock())})
    assert response.status == 200
    body = {"email": doctor.email, "password": PASSWORD}
    response = await client.post(f"{API}/auth/login", json=body)
    assert response.status == 401  # the password alone no longer does
    clock.advance(seconds=30)
    response = await client.post(f"{API}/auth/login",
                                 json={**body, "totp_code": pyotp.TOTP(secret).at(clock())})
    assert response.status == 200


async def test_otp_requests_are_rate_limited(client: TestClient) -> None:
    statuses = []
    for _ in range(6):
        response = await client.post(f"{API}/auth/otp/request", json={"phone": "9876543210"})
        statuses.append(response.status)
    assert statuses == [202] * 5 + [429]
    assert response.headers["Retry-After"].isdigit()
    assert (await response.json())["error"]["code"] == "RATE_LIMITED"


async def test_login_is_rate_limited(client: TestClient) -> None:
    body = {"email": "someone@clinic.example", "password": "wrong password"}
    statuses = [(await client.post(f"{API}/auth/login", json=body)).status for _ in range(11)]
    assert statuses == [401] * 10 + [429]


async def test_errors_have_one_shape_and_name_the_field(client: TestClient,
                                                        outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    response = await client.patch(f"{API}/me/patient-profile", headers=patient.headers,
                                  json={"allergies": ["penicillin"], "abha_number": "12-34"})
    assert response.status == 422
    error = (await response.json())["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["details"] == [{"field": "abha_number", "message": "must be 14 digits"}]
    response = await client.patch(f"{API}/me/patient-profile", headers=patient.headers,
                                  json={"allergies": "penicillin"})
    assert (await response.json())["error"]["details"][0]["field"] == "allergies"
    response = await client.patch(f"{API}/me/patient-profile", headers=patient.headers,
                                  json={"unknown": 1})
    assert (await response.json())["error"]["details"][0]["field"] == "unknown"
    response = await client.post(f"{API}/auth/login", data=b"{not json",
                                 headers={"Content-Type": "application/json"})
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "INVALID_JSON"
    for path in ("/nowhere", "/prescriptions/not-a-uuid"):
        response = await client.get(API + path, headers=patient.headers)
        body = await response.json()
        assert set(body["error"]) == {"code", "message", "details"}, path
    response = await client.delete(f"{API}/me", headers=patient.headers)
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "METHOD_NOT_ALLOWED"
    response = await client.patch(f"{API}/me/patient-profile", headers=patient.headers,
                                  json={"abha_number": "1234-5678-9012-34",
                                        "allergies": ["Penicillin"], "sex": "female"})
    assert response.status == 200
    body = await response.json()
    assert body["patient"]["abha_number"] == "XX-XXXX-XXXX-1234"  # only masked on the way out
    assert body["patient"]["allergies"] == ["Penicillin"]
    # null clears a field instead of failing
    response = await client.patch(f"{API}/me/patient-profile", headers=patient.headers,
                                  json={"allergies": None, "full_name": None})
    assert response.status == 200
    assert (await response.json())["patient"]["allergies"] == []
