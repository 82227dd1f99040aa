"""Account management use cases: staff accounts, profiles, TOTP enrolment, deactivation."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..http.errors import Conflict, NotFound, ValidationFailed
from ..http.principal import STAFF_ROLES, Principal, Role
from . import mfa
from .accounts import normalize_abha, normalize_phone
from .clock import Clock
from .domain import text
from .domain.accounts import PhysicianProfile, User
from .domain.audit import Actor
from .passwords import MIN_LENGTH, hash_password
from .uow import UnitOfWork

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
    full_name = clean_name(new.full_name)
    password_hash = await asyncio.to_thread(hash_password, new.password)
    async with uow:
        if await uow.users.by_email(email):
            raise Conflict("e-mail already registered", code="ALREADY_EXISTS",
                           details=[{"field": "email", "message": "already registered"}])
        if phone and await uow.users.by_phone(phone):
            raise Conflict("phone already registered", code="ALREADY_EXISTS",
                           details=[{"field": "phone", "message": "already registered"}])
        now = uow.clock()
        user = User(role=new.role, email=email, phone=phone, full_name=full_name,
                    password_hash=password_hash)
        uri = None
        if new.role == Role.ADMIN:
            user.mfa_secret, user.mfa_enabled = mfa.new_secret(), True
            uri = mfa.provisioning_uri(user.mfa_secret, email)
        user.touch(now)
        uow.users.add(user)
        if new.role == Role.PHYSICIAN:
            await uow.flush()  # the profile's foreign key needs the user row first
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
LIST_FIELDS = ("allergies", "conditions", "medicines")


OLDEST_BIRTH = date(1900, 1, 1)  # before it, a typing slip rather than a patient


def birth_date(value: str, today: date) -> str:
    """An ISO date of birth that can be true: not after ``today``, not before 1900."""
    try:
        born = date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed.field("date_of_birth", "not a date (YYYY-MM-DD)") from exc
    if born > today:
        raise ValidationFailed.field("date_of_birth", "must not be in the future")
    if born < OLDEST_BIRTH:
        raise ValidationFailed.field("date_of_birth", "must not be before 1900")
    return born.isoformat()


def clean_name(value: str, field: str = "full_name") -> str:
    """A name fit for documents (``domain/text.py``), or ``ValidationFailed`` naming it."""
    try:
        return text.person_name(value)
    except ValueError as exc:
        raise ValidationFailed.field(field, str(exc)) from exc


async def update_patient_profile(uow: UnitOfWork, actor: Actor, changes: dict[str, Any]
                                 ) -> dict[str, Any]:
    """Change the caller's own patient profile; old and new values are audited."""
    if changes.get("abha_number"):
        changes["abha_number"] = normalize_abha(changes["abha_number"])
    if changes.get("full_name"):
        changes["full_name"] = clean_name(changes["full_name"])
    if changes.get("date_of_birth"):
        # Today somewhere on Earth (UTC+14): a baby born after midnight in India is born
        # "tomorrow" in UTC for five and a half hours.
        today = (uow.clock() + timedelta(hours=14)).date()
        changes["date_of_birth"] = birth_date(changes["date_of_birth"], today)
    async with uow:
        assert actor.user_id is not None
        profile = await uow.users.patient(actor.user_id)
        user = await uow.users.get(actor.user_id)
        if profile is None or user is None:
            raise NotFound("no patient profile")
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for name, value in changes.items():
            if value is None and name in LIST_FIELDS:
                value = []  # null clears a list
            if name == "full_name":
                value = value or ""
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


async def add_profile_facts(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID,
                            facts: dict[str, list[str]], *, source: dict[str, Any]) -> bool:
    """Add facts to a patient's profile lists inside an open unit of work (the caller commits).

    A fact already listed (compared case-insensitively) is skipped, so adding twice changes
    nothing. The change is audited on the patient with old and new lists and its ``source``
    (e.g. the prescription whose consultation stated them), as a profile update is.

    Returns:
        Whether anything was added.
    """
    profile = await uow.users.patient(patient_id)
    if profile is None:
        raise NotFound("no patient profile")
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in LIST_FIELDS:
        stored = list(getattr(profile, name))
        for fact in facts.get(name) or []:
            if fact.casefold() not in {v.casefold() for v in stored}:
                stored.append(fact)
        if len(stored) > len(getattr(profile, name)):
            old[name], new[name] = list(getattr(profile, name)), stored
            setattr(profile, name, stored)
    if not new:
        return False
    profile.touch(uow.clock())
    uow.record(actor, "patient_profile_confirmed", "user", patient_id, old=old,
               new={**new, **source})
    return True


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
