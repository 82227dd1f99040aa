"""Account use cases: patient OTP login, staff password (+TOTP) login, token refresh, profiles."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Any

import phonenumbers

from . import mfa
from .clock import Clock
from .domain.accounts import (
    STAFF_ROLES,
    OtpPurpose,
    PatientProfile,
    PhysicianProfile,
    Role,
    User,
)
from .domain.audit import SYSTEM, Actor
from .errors import Conflict, Forbidden, NotFound, PlatformError, Unauthorized, ValidationFailed
from .notifier import Notifier
from .otp import OtpIssuer
from .passwords import MIN_LENGTH, hash_password, verify_password
from .tokens import Principal, TokenPair, TokenService, hash_refresh
from .uow import UnitOfWork

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
        except PlatformError as exc:
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
    await uow.session.flush()  # the profile's foreign key needs the user row first
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


@dataclass(frozen=True)
class NewStaff:
    """What an admin (or the command line) gives to create a staff account."""

    email: str
    password: str
    role: Role
    full_name: str
    phone: str | None = None
    registration_number: str | None = None
    council: str | None = None
    qualification: str = ""
    specialty: str = ""


async def create_staff(uow: UnitOfWork, actor: Actor, new: NewStaff) -> dict[str, Any]:
    """Create a staff account. Admins get TOTP enrolled at once; the URI is returned only here."""
    if new.role not in STAFF_ROLES:
        raise ValidationFailed.field("role", "must be a staff role")
    email = new.email.strip().lower()
    if not _EMAIL.match(email):
        raise ValidationFailed.field("email", "not an e-mail address")
    if len(new.password) < MIN_LENGTH:
        raise ValidationFailed.field("password", f"must be at least {MIN_LENGTH} characters")
    if new.role == Role.PHYSICIAN and not (new.registration_number and new.council):
        field = "registration_number" if not new.registration_number else "council"
        raise ValidationFailed.field(field, "required for physicians")
    phone = normalize_phone(new.phone) if new.phone else None
    password_hash = await asyncio.to_thread(hash_password, new.password)
    async with uow:
        if await uow.users.by_email(email):
            raise Conflict("e-mail already registered", code="ALREADY_EXISTS",
                           details=[{"field": "email", "message": "already registered"}])
        if phone and await uow.users.by_phone(phone):
            raise Conflict("phone already registered", code="ALREADY_EXISTS",
                           details=[{"field": "phone", "message": "already registered"}])
        now = uow.clock()
        user = User(role=new.role, email=email, phone=phone, full_name=new.full_name.strip(),
                    password_hash=password_hash)
        uri = None
        if new.role == Role.ADMIN:
            user.mfa_secret, user.mfa_enabled = mfa.new_secret(), True
            uri = mfa.provisioning_uri(user.mfa_secret, email)
        user.touch(now)
        uow.users.add(user)
        if new.role == Role.PHYSICIAN:
            await uow.session.flush()
            profile = PhysicianProfile(
                id=user.id, registration_number=new.registration_number or "",
                council=new.council or "", qualification=new.qualification,
                specialty=new.specialty)
            profile.touch(now)
            uow.users.add(profile)
        uow.record(actor, "user_created", "user", user.id,
                   new={"role": new.role.value, "email": email})
        await uow.commit()
        return {"user": await describe_user(uow, user), "totp_uri": uri}


async def describe_user(uow: UnitOfWork, user: User) -> dict[str, Any]:
    """A user as the API shows it, with the role's profile."""
    body: dict[str, Any] = {
        "id": str(user.id), "role": user.role.value, "full_name": user.full_name,
        "email": user.email, "phone": user.phone, "mfa_enabled": user.mfa_enabled,
        "is_active": user.is_active and user.deleted_at is None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }
    if user.role == Role.PATIENT and (patient := await uow.users.patient(user.id)):
        body["patient"] = {"abha_number": patient.abha_masked,
                           "date_of_birth": patient.date_of_birth, "sex": patient.sex,
                           "allergies": patient.allergies, "conditions": patient.conditions,
                           "medicines": patient.medicines}
    if user.role == Role.PHYSICIAN and (doctor := await uow.users.physician(user.id)):
        body["physician"] = {"registration_number": doctor.registration_number,
                             "council": doctor.council, "qualification": doctor.qualification,
                             "specialty": doctor.specialty}
    return body


async def get_user(uow: UnitOfWork, user_id: uuid.UUID) -> dict[str, Any]:
    """One user (admin and support views)."""
    async with uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("no such user")
        return await describe_user(uow, user)


async def list_users(uow: UnitOfWork, role: Role | None, limit: int, offset: int
                     ) -> list[dict[str, Any]]:
    """Users, oldest first."""
    async with uow:
        return [await describe_user(uow, u) for u in await uow.users.list(role, limit, offset)]


async def deactivate_user(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID) -> None:
    """Soft-delete an account and revoke its sessions (records stay for retention)."""
    async with uow:
        user = await uow.users.get(user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("no such user")
        if user.id == actor.user_id:
            raise Conflict("you cannot deactivate yourself", code="CONFLICT")
        now = uow.clock()
        user.is_active = False
        user.soft_delete(now)
        await uow.credentials.revoke_user(user.id, now)
        uow.record(actor, "user_deactivated", "user", user.id, old={"is_active": True},
                   new={"is_active": False})
        await uow.commit()


PROFILE_FIELDS = ("abha_number", "date_of_birth", "sex", "allergies", "conditions", "medicines")


async def update_patient_profile(uow: UnitOfWork, actor: Actor, changes: dict[str, Any]
                                 ) -> dict[str, Any]:
    """Change the caller's own patient profile; old and new values are audited."""
    if changes.get("abha_number"):
        changes["abha_number"] = normalize_abha(changes["abha_number"])
    async with uow:
        assert actor.user_id is not None
        profile = await uow.users.patient(actor.user_id)
        user = await uow.users.get(actor.user_id)
        if profile is None or user is None:
            raise NotFound("no patient profile")
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "full_name":
                old[name], new[name] = user.full_name, value
                user.full_name = value
                user.touch(uow.clock())
            elif name in PROFILE_FIELDS:
                old[name], new[name] = getattr(profile, name), value
                setattr(profile, name, list(value) if isinstance(value, list) else value)
        profile.touch(uow.clock())
        uow.record(actor, "patient_profile_updated", "user", actor.user_id, old=old, new=new)
        await uow.commit()
        return await describe_user(uow, user)


async def me(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    """The caller's own account."""
    return await get_user(uow, principal.user_id)


async def start_mfa(uow: UnitOfWork, actor: Actor) -> dict[str, str]:
    """Begin TOTP enrolment: store a new secret (inactive until confirmed) and return its URI."""
    async with uow:
        assert actor.user_id is not None
        user = await uow.users.get(actor.user_id)
        if user is None:
            raise NotFound("no such user")
        if user.mfa_enabled:
            raise Conflict("TOTP is already enabled", code="MFA_ALREADY_ENABLED")
        user.mfa_secret = mfa.new_secret()
        user.touch(uow.clock())
        uow.record(actor, "mfa_enrolment_started", "user", user.id)
        await uow.commit()
        return {"totp_uri": mfa.provisioning_uri(user.mfa_secret, user.email or str(user.id))}


async def confirm_mfa(uow: UnitOfWork, actor: Actor, code: str, clock: Clock) -> None:
    """Finish TOTP enrolment with a code from the authenticator app."""
    async with uow:
        assert actor.user_id is not None
        user = await uow.users.get(actor.user_id)
        if user is None or not user.mfa_secret or user.mfa_enabled:
            raise Conflict("no TOTP enrolment in progress", code="MFA_NOT_STARTED")
        if not mfa.check(user.mfa_secret, code, clock):
            raise ValidationFailed.field("code", "wrong TOTP code")
        user.mfa_enabled = True
        user.touch(uow.clock())
        uow.record(actor, "mfa_enabled", "user", user.id)
        await uow.commit()
