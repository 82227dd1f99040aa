"""Users, roles, profiles, one-time codes and refresh tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ...http.errors import Conflict, RateLimited, Unauthorized
from ...http.principal import STAFF_ROLES, Role
from .base import Entity


@dataclass(kw_only=True, eq=False)
class User(Entity):
    """A login. Patients have a phone and no password; staff have an email and a password."""

    role: Role
    full_name: str = ""
    email: str | None = None
    phone: str | None = None
    password_hash: str | None = None
    mfa_secret: str | None = None
    mfa_enabled: bool = False
    mfa_last_step: int | None = None  # the last TOTP time step accepted (codes are single-use)
    is_active: bool = True

    @property
    def is_staff(self) -> bool:
        """Whether the user logs in with email and password."""
        return self.role in STAFF_ROLES

    def ensure_can_log_in(self) -> None:
        """Raise ``Unauthorized`` for deactivated or deleted accounts."""
        if not self.is_active or self.deleted_at is not None:
            raise Unauthorized("account is disabled", code="ACCOUNT_DISABLED")


@dataclass(kw_only=True, eq=False)
class PatientProfile(Entity):
    """Clinical facts the safety gate and the physician need. ``id`` is the user's id."""

    abha_number: str | None = None  # 14 digits, stored without separators
    date_of_birth: str | None = None  # ISO date
    sex: str | None = None
    allergies: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    medicines: list[str] = field(default_factory=list)

    @property
    def abha_masked(self) -> str | None:
        """ABHA number as shown on documents: only the last four digits visible."""
        if not self.abha_number:
            return None
        return f"XX-XXXX-XXXX-{self.abha_number[-4:]}"


@dataclass(kw_only=True, eq=False)
class PhysicianProfile(Entity):
    """A registered medical practitioner. ``id`` is the user's id."""

    registration_number: str
    council: str  # e.g. "National Medical Commission", "Karnataka Medical Council"
    qualification: str = ""
    specialty: str = ""


class OtpPurpose(StrEnum):
    """What a one-time code unlocks."""

    LOGIN = "login"
    ESIGN = "esign"
    FAMILY_LINK = "family_link"  # a patient consents to be added as someone's family


@dataclass(kw_only=True, eq=False)
class OtpChallenge(Entity):
    """A hashed one-time code with an expiry and an attempt limit."""

    purpose: OtpPurpose
    destination: str  # phone number or user id the code went to
    subject_id: uuid.UUID | None = None  # e.g. the prescription being signed
    code_hash: str
    expires_at: datetime
    attempts: int = 0
    max_attempts: int = 5
    consumed_at: datetime | None = None

    def attempt(self, matches: bool, now: datetime) -> None:
        """Record one try; raise unless the code matched within time and attempts.

        Args:
            matches: whether the submitted code's hash equals ``code_hash``.
            now: the current time.
        """
        if self.consumed_at is not None:
            raise Conflict("code already used", code="OTP_USED")
        if now >= self.expires_at:
            raise Unauthorized("code expired", code="OTP_EXPIRED")
        if self.attempts >= self.max_attempts:
            raise RateLimited("too many attempts; request a new code", code="OTP_LOCKED")
        self.attempts += 1
        if not matches:
            raise Unauthorized("wrong code", code="OTP_INVALID",
                               details={"attempts_left": self.max_attempts - self.attempts})
        self.consumed_at = now


@dataclass(kw_only=True, eq=False)
class RefreshToken(Entity):
    """One link of a rotating refresh-token family; only its hash is stored."""

    user_id: uuid.UUID
    family_id: uuid.UUID
    token_hash: str
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class Strikes:
    """What is remembered of one subject's login tries (a phone, stored hashed)."""

    failures: int = 0  # tries since the last success or quiet period
    locks: int = 0  # locks so far; each one lasts twice as long as the one before
    last_try_at: datetime | None = None
    locked_until: datetime | None = None
