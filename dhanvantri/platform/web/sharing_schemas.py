"""Request and response bodies of the emergency card, family and share endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from ..sharing.domain import BLOOD_GROUPS, CardField, ShareKind, ShareState
from .schemas import Body, Code6, Name, Out, Text

Token = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]  # new_token(): 32 bytes
Phone = Text(20, 6)
BloodGroup = Literal["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]
assert set(BloodGroup.__args__) == set(BLOOD_GROUPS)  # type: ignore[attr-defined]
InviteLevel = Literal["manager", "viewer"]
Sex = Literal["female", "male", "other"]


class Strict(Out):
    """No field beyond those listed."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ emergency card
class EmergencyContactIn(Body):
    name: Name(100, 1)  # type: ignore[valid-type]
    relation: Text(40) = ""  # type: ignore[valid-type]
    # Any number a bystander can dial (a landline too): digits, spaces, dashes, a leading +.
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{5,18}$")]


class EmergencyCardIn(Body):
    """What the card shows: only the fields listed, nothing else."""

    fields: list[CardField] = Field(min_length=1, max_length=len(CardField))
    blood_group: BloodGroup | None = None
    contacts: list[EmergencyContactIn] = Field(default_factory=list, max_length=3)


class LinkTokenIn(Body):
    token: Token


class EmergencyContactOut(Strict):
    name: str
    relation: str
    phone: str


class EmergencyCardOut(Strict):
    id: uuid.UUID
    fields: list[CardField]
    blood_group: str | None
    contacts: list[EmergencyContactOut]
    created_at: str | None
    revoked_at: str | None


class EmergencyCardMadeOut(EmergencyCardOut):
    url: str = Field(description="the public link (the token is in its fragment)")
    qr_svg: str = Field(description="the link as an SVG QR code")


class EmergencyCardViewOut(Strict):
    """Only the fields the patient chose are present."""

    name: str | None = None
    blood_group: str | None = None
    allergies: list[str] | None = None
    conditions: list[str] | None = None
    medicines: list[str] | None = None
    contacts: list[EmergencyContactOut] | None = None


# ------------------------------------------------------------------ family
class FamilyInviteIn(Body):
    phone: Phone  # type: ignore[valid-type]
    level: InviteLevel


class FamilyAcceptIn(Body):
    """The code sent to the invitee's phone: entering it is their consent."""

    code: Code6


class FamilyDependentIn(Body):
    full_name: Name(200, 1)  # type: ignore[valid-type]
    date_of_birth: Text(10, 10)  # type: ignore[valid-type]
    sex: Sex | None = None
    relation: Text(40) | None = None  # type: ignore[valid-type]


class FamilyLevelIn(Body):
    level: InviteLevel


class FamilyInvitedOut(Strict):
    """The same answer whoever the number belongs to."""

    message: str
    expires_at: str


class FamilyMembershipOut(Strict):
    id: uuid.UUID
    member_id: uuid.UUID
    level: Literal["owner", "manager", "viewer", "dependent"]
    status: Literal["invited", "active", "left", "revoked"]
    relation: str | None
    full_name: str
    phone_hint: str | None
    consented_at: str | None


class FamilyDependentOut(Strict):
    member_id: uuid.UUID
    full_name: str
    relation: str | None


class FamilyJoinedOut(Strict):
    id: uuid.UUID
    owner_id: uuid.UUID
    level: str
    status: str
    owner_name: str
    dependents: list[FamilyDependentOut]
    expires_at: str | None = None


class FamilyOverviewOut(Strict):
    members: list[FamilyMembershipOut] = Field(description="your family, as its owner")
    memberships: list[FamilyJoinedOut] = Field(description="families you belong to")
    invitations: list[FamilyJoinedOut] = Field(description="invitations waiting for your code")


class FamilyConsultOut(Strict):
    patient_id: uuid.UUID
    level: str


class FamilyRecordOut(Out):
    """A read-only record: profile facts, consultations, signed prescriptions, lab results."""

    patient: dict[str, Any]
    consultations: list[dict[str, Any]]
    prescriptions: list[dict[str, Any]]
    lab_reports: list[dict[str, Any]]


# ------------------------------------------------------------------ shares
class RecordShareIn(Body):
    kind: ShareKind
    reference_id: uuid.UUID | None = Field(
        None, description="the prescription or lab booking; none for the whole record")
    minutes: int = Field(ge=5, le=7 * 24 * 60, description="how long the share lasts")


class ShareUnlockIn(Body):
    token: Token
    code: Code6


class ShareSessionIn(Body):
    session: Token


class RecordShareOut(Strict):
    id: uuid.UUID
    kind: ShareKind
    reference_id: uuid.UUID | None
    status: ShareState
    expires_at: str
    created_at: str | None
    attempts: int


class RecordShareListOut(Strict):
    items: list[RecordShareOut]


class RecordShareMadeOut(RecordShareOut):
    url: str
    qr_svg: str
    code: str = Field(description="the six digits the patient reads out to the recipient")


class ShareLinkOut(Strict):
    kind: ShareKind
    expires_at: str
    attempts_left: int


class ShareSessionOut(Strict):
    session: str
    expires_at: str
    kind: ShareKind


class SharedContentOut(Strict):
    kind: ShareKind
    expires_at: str
    content: dict[str, Any]
