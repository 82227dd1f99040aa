"""Login, token refresh, logout, own account, TOTP enrolment."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import REQUEST_ID, caller
from ...http.endpoint import Endpoint, client_ip, ok, parse_body
from ...http.permissions import Perm
from .. import accounts, users
from .common import actor_for, services
from .schemas import (
    Account,
    LoginIn,
    MfaConfirmIn,
    MfaEnabled,
    OtpChallenge,
    OtpRequestIn,
    OtpVerifyIn,
    PatientProfileIn,
    RefreshIn,
    TokenPair,
    TotpUri,
)


async def request_otp(request: web.Request) -> web.Response:
    body = await parse_body(request, OtpRequestIn)
    svc = services(request)
    phone = accounts.normalize_phone(body.phone, svc.settings.phone_region)
    await svc.limits.hit("otp", f"ip:{client_ip(request)}", f"phone:{phone}")
    result = await accounts.request_login_code(svc.uow(), svc.otps, svc.notifier, phone,
                                               svc.limits.lockouts,
                                               region=svc.settings.phone_region)
    return ok(result, status=202)


async def verify_otp(request: web.Request) -> web.Response:
    body = await parse_body(request, OtpVerifyIn)
    svc = services(request)
    await svc.limits.hit("login", f"ip:{client_ip(request)}", f"otp:{body.challenge_id}")
    pair = await accounts.verify_login_code(svc.uow(), svc.otps, svc.tokens, body.challenge_id,
                                            body.code, request.get(REQUEST_ID),
                                            svc.limits.lockouts)
    return ok(pair.as_json())


async def login(request: web.Request) -> web.Response:
    body = await parse_body(request, LoginIn)
    svc = services(request)
    email = accounts.normalize_email(body.email)  # the form the login looks up
    await svc.limits.hit("login", f"ip:{client_ip(request)}", f"email:{email}")
    pair = await accounts.staff_login(svc.uow(), svc.tokens, body.email, body.password,
                                      body.totp_code, request.get(REQUEST_ID))
    return ok(pair.as_json())


async def refresh(request: web.Request) -> web.Response:
    body = await parse_body(request, RefreshIn)
    svc = services(request)
    await svc.limits.hit("login", f"ip:{client_ip(request)}")
    pair = await accounts.refresh(svc.uow(), svc.tokens, body.refresh_token,
                                  request.get(REQUEST_ID))
    return ok(pair.as_json())


async def logout(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, RefreshIn)
    svc = services(request)
    await accounts.logout(svc.uow(), svc.tokens, principal, body.refresh_token,
                          request.get(REQUEST_ID))
    return web.Response(status=204)


async def get_me(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await users.me(services(request).uow(), principal))


async def update_patient_profile(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, PatientProfileIn)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("date_of_birth") is not None:
        changes["date_of_birth"] = changes["date_of_birth"].isoformat()
    result = await users.update_patient_profile(services(request).uow(),
                                                   actor_for(request, principal), changes)
    return ok(result)


async def mfa_setup(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await users.start_mfa(services(request).uow(), actor_for(request, principal)))


async def mfa_confirm(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, MfaConfirmIn)
    svc = services(request)
    await users.confirm_mfa(svc.uow(), actor_for(request, principal), body.code, svc.clock)
    return ok({"mfa_enabled": True})


TOKENS = {200: "access and refresh tokens"}
ENDPOINTS = [
    Endpoint("POST", "/auth/otp/request", request_otp, "Send a login code to a patient's phone",
             "auth", None, OtpRequestIn, responses={202: "code sent (never in the response)"},
             response=OtpChallenge, rate_limited=True),
    Endpoint("POST", "/auth/otp/verify", verify_otp, "Exchange a login code for tokens",
             "auth", None, OtpVerifyIn, responses=TOKENS, response=TokenPair,
             rate_limited=True),
    Endpoint("POST", "/auth/login", login, "Staff login: e-mail, password, TOTP for admins",
             "auth", None, LoginIn, responses=TOKENS, response=TokenPair,
             rate_limited=True),
    Endpoint("POST", "/auth/refresh", refresh, "Rotate a refresh token", "auth", None, RefreshIn,
             responses=TOKENS, response=TokenPair, rate_limited=True),
    Endpoint("POST", "/auth/logout", logout,
             "End the session of a refresh token (its access tokens too)", "auth",
             Perm.PROFILE_READ, RefreshIn, responses={204: "revoked"}),
    Endpoint("GET", "/me", get_me, "The caller's account and profile", "accounts",
             Perm.PROFILE_READ, responses={200: "account"}, response=Account),
    Endpoint("PATCH", "/me/patient-profile", update_patient_profile,
             "Update the caller's patient profile (ABHA, allergies, conditions, medicines)",
             "accounts", Perm.PATIENT_PROFILE_WRITE, PatientProfileIn,
             responses={200: "account"}, response=Account),
    Endpoint("POST", "/auth/mfa/setup", mfa_setup, "Start TOTP enrolment", "auth",
             Perm.MFA_MANAGE, responses={200: "otpauth URI"}, response=TotpUri),
    Endpoint("POST", "/auth/mfa/confirm", mfa_confirm, "Finish TOTP enrolment with a code",
             "auth", Perm.MFA_MANAGE, MfaConfirmIn, responses={200: "enabled"},
             response=MfaEnabled),
]
