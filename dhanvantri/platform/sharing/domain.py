"""The sharing records and their rules, with no ORM import (``tables/sharing.py`` maps them).

A QR link carries a 256-bit random token; only its SHA-256 digest is stored, so the database
alone cannot rebuild a link, and marking the row revoked kills every copy of the link at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ..domain.base import Tracked

TOKEN_BYTES = 32


def new_token() -> str:
    """A link token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------ the emergency card
class CardField(StrEnum):
    """What a patient may put on their emergency card (they choose; nothing else shows)."""

    NAME = "name"
    BLOOD_GROUP = "blood_group"
    ALLERGIES = "allergies"
    CONDITIONS = "conditions"
    MEDICINES = "medicines"
    CONTACTS = "contacts"


BLOOD_GROUPS = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")


@dataclass(kw_only=True, eq=False)
class EmergencyCard(Tracked):
    """One card; a new card or a revoke ends the old one for good."""

    patient_id: uuid.UUID
    token_hash: str
    fields: list[str] = field(default_factory=list)
    blood_group: str | None = None
    contacts: list[dict[str, str]] = field(default_factory=list)
    revoked_at: datetime | None = None

    @property
    def live(self) -> bool:
        """Whether the card's link still opens it."""
        return self.revoked_at is None


# ------------------------------------------------------------------ family
class Level(StrEnum):
    """What a family member may do for the family's dependents.

    The owner (the account holder) adds and removes members; a manager starts consultations
    for dependents and reads their record; a viewer only reads. A dependent (a child, an
    elderly parent without a phone) is the one acted for.
    """

    OWNER = "owner"
    MANAGER = "manager"
    VIEWER = "viewer"
    DEPENDENT = "dependent"


class MemberStatus(StrEnum):
    """A membership's life: invited, active after consent, then left or revoked."""

    INVITED = "invited"
    ACTIVE = "active"
    LEFT = "left"
    REVOKED = "revoked"


class Action(StrEnum):
    """What someone does about another person's record."""

    READ_RECORD = "read_record"
    START_CONSULTATION = "start_consultation"
    MANAGE_FAMILY = "manage_family"


# The authorisation matrix: a level's actions over a family's dependents. Adults who joined by
# invitation keep their own record private (joining gives access to dependents, not to them).
MATRIX: dict[Level, frozenset[Action]] = {
    Level.OWNER: frozenset(Action),
    Level.MANAGER: frozenset({Action.READ_RECORD, Action.START_CONSULTATION}),
    Level.VIEWER: frozenset({Action.READ_RECORD}),
    Level.DEPENDENT: frozenset(),
}
INVITABLE = (Level.MANAGER, Level.VIEWER)


def permits(level: Level | None, action: Action) -> bool:
    """Whether ``level`` (None: no relation) allows ``action`` on a dependent."""
    return level is not None and action in MATRIX[level]


@dataclass(kw_only=True, eq=False)
class FamilyMember(Tracked):
    """One person in an owner's family: an invited adult or a dependent the owner created."""

    owner_id: uuid.UUID
    member_id: uuid.UUID
    level: Level
    status: MemberStatus = MemberStatus.INVITED
    relation: str | None = None
    challenge_id: uuid.UUID | None = None
    consented_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the membership counts (consented, not left or revoked)."""
        return self.status == MemberStatus.ACTIVE


# ------------------------------------------------------------------ shares
class ShareKind(StrEnum):
    """What a share opens."""

    RECORD = "record"  # the whole record
    PRESCRIPTION = "prescription"
    LAB_REPORT = "lab_report"


class ShareState(StrEnum):
    """Where a share is, as its patient and its recipient see it."""

    WAITING = "waiting"  # not opened with its code yet
    OPEN = "open"
    EXPIRED = "expired"
    REVOKED = "revoked"
    LOCKED = "locked"  # too many wrong codes


SHARE_CODE_TRIES = 3  # wrong codes before a share locks for good


@dataclass(kw_only=True, eq=False)
class Share(Tracked):
    """A time-limited, read-only view of part of a record, opened once with a spoken code.

    The recipient's browser gets a session token (kept hashed in ``session_hash``) when the
    code is right; that session is bound to this share and ends with it.
    """

    patient_id: uuid.UUID
    kind: ShareKind
    reference_id: uuid.UUID | None = None
    token_hash: str
    code_hash: str
    attempts: int = 0
    session_hash: str | None = None
    expires_at: datetime
    unlocked_at: datetime | None = None
    locked_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> ShareState:
        """The share's state at ``now`` (revoked and locked outrank expiry)."""
        if self.revoked_at is not None:
            return ShareState.REVOKED
        if self.locked_at is not None:
            return ShareState.LOCKED
        if now >= self.expires_at:
            return ShareState.EXPIRED
        return ShareState.OPEN if self.unlocked_at is not None else ShareState.WAITING
