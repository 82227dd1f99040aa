"""Login use cases: patient OTP login, staff password (+TOTP) login, token refresh, logout.

Account management (staff, profiles, TOTP enrolment) is in ``users.py``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import phonenumbers

from ..http.errors import ApiError, Forbidden, Unauthorized, ValidationFailed
from ..http.principal import Principal, Role
from . import mfa
from .domain.accounts import OtpPurpose, PatientProfile, User
from .domain.audit import SYSTEM, Actor
from .notifier import Notifier
from .otp import OtpIssuer
from .passwords import verify_password
from .ratelimit import Lockouts
from .tokens import AccessClaims, TokenPair, TokenService, hash_refresh
from .uow import UnitOfWork

LOGIN_SCOPE = "otp-login"  # what the lockouts count: wrong login codes per phone


def normalize_phone(raw: str, region: str = "IN") -> str:
    """E.164 form of a mobile number of ``region`` (``DHANVANTRI_PHONE_REGION``); raise
    ``ValidationFailed`` on ``phone`` otherwise.

    Numbers of other regions are refused: codes are sent where the service runs, and an SMS
    abroad costs money anyone could make the server spend.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed.field("phone", "not a phone number") from exc
    kind = phonenumbers.number_type(number)
    mobile = kind in (phonenumbers.PhoneNumberType.MOBILE,
                      phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if not phonenumbers.is_valid_number(number) or not mobile:
        raise ValidationFailed.field("phone", "must be a valid mobile number")
    if phonenumbers.region_code_for_number(number) != region:
        raise ValidationFailed.field("phone", f"must be a mobile number in {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """The one form of an e-mail address: for lookups and for the per-account rate limit."""
    return raw.strip().lower()


def normalize_abha(raw: str) -> str:
    """The 14 digits of an ABHA number (separators removed)."""
    digits = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"\d{14}", digits):
        raise ValidationFailed.field("abha_number", "must be 14 digits")
    return digits


async def request_login_code(uow: UnitOfWork, otps: OtpIssuer, notifier: Notifier,
                             phone: str, lockouts: Lockouts | None = None, *,
                             region: str = "IN") -> dict[str, Any]:
    """Send a login code to a patient's phone (of ``region``); the account is created on
    first verification.

    A phone locked after wrong codes gets no new code until the lock ends (``RATE_LIMITED``).
    """
    phone = normalize_phone(phone, region)
    async with uow:
        if lockouts is not None:
            await lockouts.ensure_open(uow, LOGIN_SCOPE, phone)
        challenge, code = otps.issue(OtpPurpose.LOGIN, phone)
        uow.credentials.add(challenge)
        uow.record(SYSTEM, "otp_sent", "otp_challenge", challenge.id, new={"purpose": "login"})
        await uow.commit()
    await notifier.send_code(phone, code, "login")
    return {"challenge_id": str(challenge.id), "expires_at": challenge.expires_at.isoformat()}


async def verify_login_code(uow: UnitOfWork, otps: OtpIssuer, tokens: TokenService,
                            challenge_id: uuid.UUID, code: str, request_id: str | None,
                            lockouts: Lockouts | None = None) -> TokenPair:
    """Exchange a login code for tokens, registering the patient on first login.

    With ``lockouts``, every try counts against the phone across all its challenges (the
    per-challenge limit alone lets many challenges multiply the guesses).
    """
    async with uow:
        challenge = await uow.credentials.otp(challenge_id)
        if challenge is None or challenge.purpose != OtpPurpose.LOGIN:
            raise Unauthorized("unknown or expired challenge", code="OTP_INVALID")
        if lockouts is not None:
            await lockouts.attempt(uow, LOGIN_SCOPE, challenge.destination)
        try:
            otps.check(challenge, code)
        except ApiError as exc:
            uow.record(Actor(None, "anonymous", request_id), "login_failed", "otp_challenge",
                       challenge.id, new={"reason": exc.code})
            await uow.commit()  # the attempt counter must survive the failure
            raise
        if lockouts is not None:
            await lockouts.clear(uow, LOGIN_SCOPE, challenge.destination)
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
    """E-mail and password (Argon2id); admins, and staff who enabled it, also give a TOTP code.

    Until both factors pass, every failure gets the same ``INVALID_CREDENTIALS`` answer: telling
    "TOTP required" only to a right password would confirm the password. Each TOTP code is
    single-use (its time step is remembered).
    """
    async with uow:
        user = await uow.users.by_email(normalize_email(email))
        # Argon2 is deliberately slow: keep it off the event loop.
        ok = await asyncio.to_thread(verify_password, user.password_hash if user else None,
                                     password)
        if user is None or not ok or not user.is_staff:
            await _login_failed(uow, user, "INVALID_CREDENTIALS", request_id)
        user.ensure_can_log_in()
        if user.role == Role.ADMIN or user.mfa_enabled:
            if not user.mfa_secret or not user.mfa_enabled:
                raise Forbidden("this account must enrol TOTP first", code="MFA_SETUP_REQUIRED")
            if not totp_code:
                await _login_failed(uow, user, "MFA_REQUIRED", request_id)
            step = mfa.matched_step(user.mfa_secret, totp_code, tokens.clock,
                                    after=user.mfa_last_step)
            if step is None or not await uow.users.claim_totp_step(user.id, step):
                await _login_failed(uow, user, "MFA_INVALID", request_id)
        pair = _issue(uow, tokens, user)
        uow.record(Actor(user.id, user.role.value, request_id), "login", "user", user.id,
                   new={"method": "password+totp" if user.mfa_enabled else "password"})
        await uow.commit()
        return pair


async def _login_failed(uow: UnitOfWork, user: User | None, reason: str,
                        request_id: str | None) -> NoReturn:
    """Audit the failure with its real reason; answer the caller without it."""
    actor = Actor(None, "anonymous", request_id)
    if user is not None and reason != "INVALID_CREDENTIALS":  # the password passed
        actor = Actor(user.id, user.role.value, request_id)
    uow.record(actor, "login_failed", "user", user.id if user else "unknown",
               new={"reason": reason})
    await uow.commit()
    raise Unauthorized("wrong e-mail, password or TOTP code", code="INVALID_CREDENTIALS")


def _issue(uow: UnitOfWork, tokens: TokenService, user: User,
           family_id: uuid.UUID | None = None) -> TokenPair:
    record, value = tokens.refresh_token(user.id, family_id)
    uow.credentials.add(record)
    return TokenPair(tokens.access_token(user.id, user.role, record.family_id), value,
                     tokens.access_seconds)


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
            tokens.checked.forget_session(record.family_id)
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


async def logout(uow: UnitOfWork, tokens: TokenService, principal: Principal, value: str,
                 request_id: str | None) -> None:
    """Revoke the session (refresh-token family) the given token belongs to, its access
    tokens included (the caller's own only)."""
    async with uow:
        record = await uow.credentials.refresh_token(hash_refresh(value))
        if record is None or record.user_id != principal.user_id:
            return
        await uow.credentials.revoke_family(record.family_id, uow.clock())
        uow.record(_actor(principal, request_id), "logout", "user", principal.user_id)
        await uow.commit()
    tokens.checked.forget_session(record.family_id)


def _actor(principal: Principal, request_id: str | None) -> Actor:
    return Actor(principal.user_id, principal.role.value, request_id)


Authenticate = Callable[[str], Awaitable[Principal]]


def authenticator(uows: Callable[[], UnitOfWork], tokens: TokenService) -> Authenticate:
    """Bearer token to principal, with the account and session checked per request.

    A deactivated or deleted account, or a session ended by logout or refresh-token reuse,
    stops its access tokens at once in this process and within ``CHECK_SECONDS`` in others
    (each process trusts a passed check that long: one query per caller per interval).
    """

    async def authenticate(token: str) -> Principal:
        claims = tokens.access_claims(token)
        if not tokens.checked.fresh(claims):
            await _check_session(uows(), claims)
            tokens.checked.remember(claims)
        return claims.principal

    return authenticate


async def _check_session(uow: UnitOfWork, claims: AccessClaims) -> None:
    async with uow:
        user = await uow.users.get(claims.principal.user_id)
        # No row: a token minted with the server secret for no account (tests, tools). Its
        # signature and expiry stand; a session it names cannot be live (no account, no tokens).
        if user is not None:
            user.ensure_can_log_in()
            if user.role != claims.principal.role:
                raise Unauthorized("the account's role has changed", code="TOKEN_INVALID")
        if claims.session_id is not None and not await uow.credentials.session_alive(
                claims.session_id):
            raise Unauthorized("the session has ended; sign in again", code="TOKEN_INVALID")
