"""Login use cases: patient OTP login, staff password (+TOTP) login, token refresh, logout.

Account management (staff, profiles, TOTP enrolment) is in ``users.py``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import phonenumbers

from ..http.errors import ApiError, Forbidden, Unauthorized, ValidationFailed
from ..http.principal import Principal, Role
from . import mfa
from .domain.accounts import OtpPurpose, PatientProfile, User
from .domain.audit import SYSTEM, Actor
from .notifier import Notifier
from .otp import OtpIssuer
from .passwords import verify_password
from .tokens import TokenPair, TokenService, hash_refresh
from .uow import UnitOfWork


def normalize_phone(raw: str, region: str = "IN") -> str:
    """E.164 form of a mobile number; raise ``ValidationFailed`` on ``phone`` otherwise."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed.field("phone", "not a phone number") from exc
    kind = phonenumbers.number_type(number)
    mobile = kind in (phonenumbers.PhoneNumberType.MOBILE,
                      phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if not phonenumbers.is_valid_number(number) or not mobile:
        raise ValidationFailed.field("phone", "must be a valid mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_abha(raw: str) -> str:
    """The 14 digits of an ABHA number (separators removed)."""
    digits = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"\d{14}", digits):
        raise ValidationFailed.field("abha_number", "must be 14 digits")
    return digits


async def request_login_code(uow: UnitOfWork, otps: OtpIssuer, notifier: Notifier,
                             phone: str) -> dict[str, Any]:
    """Send a login code to a patient's phone; the account is created on first verification."""
    phone = normalize_phone(phone)
    async with uow:
        challenge, code = otps.issue(OtpPurpose.LOGIN, phone)
        uow.credentials.add(challenge)
        uow.record(SYSTEM, "otp_sent", "otp_challenge", challenge.id, new={"purpose": "login"})
        await uow.commit()
    await notifier.send_code(phone, code, "login")
    return {"challenge_id": str(challenge.id), "expires_at": challenge.expires_at.isoformat()}


async def verify_login_code(uow: UnitOfWork, otps: OtpIssuer, tokens: TokenService,
                            challenge_id: uuid.UUID, code: str, request_id: str | None
                            ) -> TokenPair:
    """Exchange a login code for tokens, registering the patient on first login."""
    async with uow:
        challenge = await uow.credentials.otp(challenge_id)
        if challenge is None or challenge.purpose != OtpPurpose.LOGIN:
            raise Unauthorized("unknown or expired challenge", code="OTP_INVALID")
        try:
            otps.check(challenge, code)
        except ApiError as exc:
            uow.record(Actor(None, "anonymous", request_id), "login_failed", "otp_challenge",
                       challenge.id, new={"reason": exc.code})
            await uow.commit()  # the attempt counter must survive the failure
            raise
        user = await uow.users.by_phone(challenge.destination)
        if user is None:
            user = await _register_patient(uow, challenge.destination, request_id)
        elif user.role != Role.PATIENT:
            raise Unauthorized("phone login is for patients", code="INVALID_CREDENTIALS")
        user.ensure_can_log_in()
        pair = _issue(uow, tokens, user)
        uow.record(Actor(user.id, user.role.value, request_id), "login", "user", user.id,
                   new={"method": "otp"})
        await uow.commit()
        return pair


async def _register_patient(uow: UnitOfWork, phone: str, request_id: str | None) -> User:
    now = uow.clock()
    user = User(role=Role.PATIENT, phone=phone)
    user.touch(now)
    profile = PatientProfile(id=user.id)
    profile.touch(now)
    uow.users.add(user)
    await uow.flush()  # the profile's foreign key needs the user row first
    uow.users.add(profile)
    uow.record(Actor(user.id, "patient", request_id), "user_registered", "user", user.id,
               new={"role": "patient"})
    return user


async def staff_login(uow: UnitOfWork, tokens: TokenService, email: str, password: str,
                      totp_code: str | None, request_id: str | None) -> TokenPair:
    """E-mail and password (Argon2id); admins, and staff who enabled it, also give a TOTP code."""
    async with uow:
        user = await uow.users.by_email(email.strip().lower())
        # Argon2 is deliberately slow: keep it off the event loop.
        ok = await asyncio.to_thread(verify_password, user.password_hash if user else None,
                                     password)
        if user is None or not ok or not user.is_staff:
            uow.record(Actor(None, "anonymous", request_id), "login_failed", "user",
                       user.id if user else "unknown", new={"reason": "INVALID_CREDENTIALS"})
            await uow.commit()
            raise Unauthorized("wrong e-mail or password", code="INVALID_CREDENTIALS")
        user.ensure_can_log_in()
        if user.role == Role.ADMIN or user.mfa_enabled:
            if not user.mfa_secret or not user.mfa_enabled:
                raise Forbidden("this account must enrol TOTP first", code="MFA_SETUP_REQUIRED")
            if not totp_code:
                raise Unauthorized("a TOTP code is required", code="MFA_REQUIRED",
                                   details=[{"field": "totp_code", "message": "required"}])
            if not mfa.check(user.mfa_secret, totp_code, tokens.clock):
                uow.record(Actor(user.id, user.role.value, request_id), "login_failed", "user",
                           user.id, new={"reason": "MFA_INVALID"})
                await uow.commit()
                raise Unauthorized("wrong TOTP code", code="MFA_INVALID")
        pair = _issue(uow, tokens, user)
        uow.record(Actor(user.id, user.role.value, request_id), "login", "user", user.id,
                   new={"method": "password+totp" if user.mfa_enabled else "password"})
        await uow.commit()
        return pair


def _issue(uow: UnitOfWork, tokens: TokenService, user: User,
           family_id: uuid.UUID | None = None) -> TokenPair:
    record, value = tokens.refresh_token(user.id, family_id)
    uow.credentials.add(record)
    return TokenPair(tokens.access_token(user.id, user.role), value, tokens.access_seconds)


async def refresh(uow: UnitOfWork, tokens: TokenService, value: str, request_id: str | None
                  ) -> TokenPair:
    """Rotate a refresh token. Presenting a rotated (revoked) one revokes its whole family."""
    async with uow:
        record = await uow.credentials.refresh_token(hash_refresh(value))
        now = uow.clock()
        if record is None:
            raise Unauthorized("unknown refresh token", code="TOKEN_INVALID")
        if record.revoked_at is not None:
            await uow.credentials.revoke_family(record.family_id, now)
            uow.record(Actor(record.user_id, "unknown", request_id), "refresh_token_reused",
                       "user", record.user_id)
            await uow.commit()
            raise Unauthorized("refresh token was already used; session revoked",
                               code="TOKEN_REUSED")
        if not record.is_usable(now):
            raise Unauthorized("refresh token expired", code="TOKEN_EXPIRED")
        user = await uow.users.get(record.user_id)
        if user is None:
            raise Unauthorized("unknown user", code="TOKEN_INVALID")
        user.ensure_can_log_in()
        record.revoked_at = now
        record.touch(now)
        pair = _issue(uow, tokens, user, record.family_id)
        await uow.commit()
        return pair


async def logout(uow: UnitOfWork, principal: Principal, value: str, request_id: str | None
                 ) -> None:
    """Revoke the refresh-token family the given token belongs to (the caller's own only)."""
    async with uow:
        record = await uow.credentials.refresh_token(hash_refresh(value))
        if record is None or record.user_id != principal.user_id:
            return
        await uow.credentials.revoke_family(record.family_id, uow.clock())
        uow.record(_actor(principal, request_id), "logout", "user", principal.user_id)
        await uow.commit()


def _actor(principal: Principal, request_id: str | None) -> Actor:
    return Actor(principal.user_id, principal.role.value, request_id)
