"""Request bodies, query strings and response bodies of the back office's non-commerce routes.

Request models validate input; all of them feed the OpenAPI document. Times are ISO 8601 text.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from ...http.principal import Role
from ..domain import text
from ..domain.prescriptions import Status


def _printable(value: str) -> str:
    # NUL and other control characters are refused (PostgreSQL text cannot hold NUL at all).
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


def _visible(value: Any) -> Any:
    # Before the length bounds: a string of only invisible characters is empty, not "given".
    return text.visible(value) if isinstance(value, str) else value


def _name(value: Any) -> Any:
    return text.person_name(value) if isinstance(value, str) else value


def Text(max_length: int, min_length: int = 0) -> type[str]:
    """A string field with length bounds, its control and invisible characters dropped
    (``domain/text.py``)."""
    return Annotated[str, BeforeValidator(_visible),  # type: ignore[return-value]
                     Field(min_length=min_length, max_length=max_length)]


def Name(max_length: int, min_length: int = 0) -> type[str]:
    """A person's name: one line, invisible characters dropped, no ``<`` or ``>``."""
    return Annotated[str, BeforeValidator(_name),  # type: ignore[return-value]
                     Field(min_length=min_length, max_length=max_length)]


def Secret(max_length: int, min_length: int = 0) -> type[str]:
    """A password or token: kept exactly as typed (changing it would lock its owner out), and
    refused with control characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),  # type: ignore[return-value]
                     AfterValidator(_printable)]


Code6 = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
StaffRole = Literal["physician", "pharmacy", "lab", "admin", "support"]


class Body(BaseModel):
    """Unknown fields are an error, named in the response."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Unknown query parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class OtpRequestIn(Body):
    phone: Text(20, 6)  # type: ignore[valid-type]


class OtpVerifyIn(Body):
    challenge_id: uuid.UUID
    code: Code6


class LoginIn(Body):
    email: Text(320, 3)  # type: ignore[valid-type]
    password: Secret(1024, 1)  # type: ignore[valid-type]
    totp_code: Code6 | None = None


class RefreshIn(Body):
    refresh_token: Secret(200, 10)  # type: ignore[valid-type]


class MfaConfirmIn(Body):
    code: Code6


class PatientProfileIn(Body):
    full_name: Name(200) | None = None  # type: ignore[valid-type]
    abha_number: Text(20) | None = None  # type: ignore[valid-type]
    date_of_birth: date | None = None
    sex: Literal["female", "male", "other"] | None = None
    allergies: list[Text(100, 1)] | None = Field(None, max_length=50)  # type: ignore[valid-type]
    conditions: list[Text(100, 1)] | None = Field(None, max_length=50)  # type: ignore[valid-type]
    medicines: list[Text(100, 1)] | None = Field(None, max_length=50)  # type: ignore[valid-type]


class StaffIn(Body):
    email: Text(320, 3)  # type: ignore[valid-type]
    password: Secret(1024, 12)  # type: ignore[valid-type]
    role: StaffRole
    full_name: Name(200, 1)  # type: ignore[valid-type]
    phone: Text(20, 6) | None = None  # type: ignore[valid-type]
    registration_number: Text(64, 1) | None = None  # type: ignore[valid-type]
    council: Text(200, 1) | None = None  # type: ignore[valid-type]
    qualification: Text(200) = ""  # type: ignore[valid-type]
    specialty: Text(200) = ""  # type: ignore[valid-type]


class UserListQuery(Query):
    role: Role | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class MedicationIn(Body):
    name: Text(200, 1)  # type: ignore[valid-type]
    dose: Text(200) = ""  # type: ignore[valid-type]
    frequency: Text(200) = ""  # type: ignore[valid-type]
    duration: Text(200) = ""  # type: ignore[valid-type]
    route: Text(100) = ""  # type: ignore[valid-type]
    instructions: Text(500) = ""  # type: ignore[valid-type]


class ConsultationIn(Body):
    """How the physician states the consultation was held (Telemedicine Practice Guidelines
    2020: the mode is recorded on the prescription and sets what it may prescribe)."""

    first: bool
    mode: Literal["audio", "video", "text", "in_person"]


class PrescriptionEditIn(Body):
    diagnosis: Text(500) = ""  # type: ignore[valid-type]
    diagnosis_confidence: Literal["HIGH", "MEDIUM", "LOW", ""] = ""
    medications: list[MedicationIn] = Field(default_factory=list, max_length=30)
    lab_tests: list[Text(500)] = Field(default_factory=list, max_length=30)  # type: ignore[valid-type]
    advice: list[Text(500)] = Field(default_factory=list, max_length=30)  # type: ignore[valid-type]
    red_flags: list[Text(500)] = Field(default_factory=list, max_length=30)  # type: ignore[valid-type]
    follow_up_days: int | None = Field(None, ge=0, le=365)
    # None keeps what was stated before (or, if nothing was, what the record tells).
    consultation: ConsultationIn | None = None


class RejectIn(Body):
    reason: Text(1000, 1)  # type: ignore[valid-type]


class StatedFactsIn(Body):
    """Facts the patient stated in the consultation, to confirm into their profile."""

    allergies: list[Text(100, 1)] = Field(default_factory=list, max_length=50)  # type: ignore[valid-type]
    medicines: list[Text(100, 1)] = Field(default_factory=list, max_length=50)  # type: ignore[valid-type]
    conditions: list[Text(100, 1)] = Field(default_factory=list, max_length=50)  # type: ignore[valid-type]


class SignCompleteIn(Body):
    session_id: uuid.UUID
    otp: Code6


class AcknowledgeIn(Body):
    consent: bool
    consent_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    signature_png: Annotated[str, Field(min_length=30, max_length=360_000)]
    device_info: Text(500) | None = None  # type: ignore[valid-type]


class PrescriptionListQuery(Query):
    status: Status | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class QueueQuery(Query):
    limit: int = Field(50, ge=1, le=200)


class AuditQuery(Query):
    entity_type: Text(64) | None = None  # type: ignore[valid-type]
    entity_id: Text(64) | None = None  # type: ignore[valid-type]
    after_seq: int = Field(0, ge=0, le=2**62)
    limit: int = Field(100, ge=1, le=500)


# ------------------------------------------------------------------ response bodies
class Out(BaseModel):
    """A response body as the handlers build it (documentation; never used to parse)."""


class OtpChallenge(Out):
    challenge_id: uuid.UUID
    expires_at: str


class TokenPair(Out):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="seconds the access token is valid")


class PatientProfile(Out):
    abha_number: str | None = Field(description="masked: XX-XXXX-XXXX-1234")
    date_of_birth: str | None
    sex: str | None
    allergies: list[str]
    conditions: list[str]
    medicines: list[str]


class PhysicianProfile(Out):
    registration_number: str
    council: str
    qualification: str
    specialty: str


class Account(Out):
    id: uuid.UUID
    role: Role
    full_name: str
    email: str | None
    phone: str | None
    mfa_enabled: bool
    is_active: bool
    created_at: str | None
    patient: PatientProfile | None = Field(None, description="patients only")
    physician: PhysicianProfile | None = Field(None, description="physicians only")


class AccountList(Out):
    items: list[Account]


class StaffCreated(Out):
    user: Account
    totp_uri: str | None = Field(description="admins only; shown this once")


class TotpUri(Out):
    totp_uri: str


class MfaEnabled(Out):
    mfa_enabled: Literal[True]


class PatientRef(Out):
    id: uuid.UUID
    full_name: str


class QueueItem(Out):
    id: uuid.UUID
    consultation_id: uuid.UUID
    patient: PatientRef
    urgent: bool
    diagnosis: str
    safety_blocked: bool
    created_at: str | None


class PrescriptionQueue(Out):
    items: list[QueueItem]


class Signer(Out):
    id: uuid.UUID
    full_name: str
    registration_number: str
    council: str


class Acknowledgement(Out):
    record_sha256: str
    signature_sha256: str


class StatedFacts(Out):
    """Stated in the consultation, not (yet) in the patient's profile."""

    allergies: list[str]
    medicines: list[str]
    conditions: list[str]


class Prescription(Out):
    """What the caller's role may see: the signer once signed; the content once the patient has
    acknowledged it (physicians and admins: always, with the safety result; in the single view
    also the AI draft, reasoning and transcript)."""

    id: uuid.UUID
    consultation_id: uuid.UUID
    patient_id: uuid.UUID
    status: Status
    urgent: bool
    version: int
    created_at: str | None
    updated_at: str | None
    approved_at: str | None
    signed_at: str | None
    acknowledged_at: str | None
    released_at: str | None
    rejection_reason: str | None
    content: dict[str, Any] | None = None
    physician: Signer | None = None
    safety: dict[str, Any] | None = None
    consultation: dict[str, Any] | None = None
    ai_draft: dict[str, Any] | None = None
    ai_reasoning: str | None = None
    transcript: list[Any] | None = None
    patient: dict[str, Any] | None = None
    stated: StatedFacts | None = Field(None, description="physicians: stated facts the profile "
                                       "lacks")
    acknowledgement: Acknowledgement | None = Field(None, description="acknowledge only")


class PrescriptionList(Out):
    items: list[Prescription]


class SigningSession(Out):
    session_id: str
    expires_at: str
    provider: str


class SignatureChecks(Out):
    pdf: bool
    content: bool
    signature: bool


class SignerFacts(Out):
    full_name: str | None
    registration_number: str | None
    council: str | None


class Verification(Out):
    """Public: no patient data."""

    prescription_id: uuid.UUID
    status: Status
    valid: bool
    reason: str | None = None
    checks: SignatureChecks | None = None
    signed_at: str | None = None
    provider: str | None = None
    key_id: str | None = None
    physician: SignerFacts | None = None


class ConsentText(Out):
    version: str
    text: str
    sha256: str


class AuditEventOut(Out):
    seq: int
    id: uuid.UUID
    actor_id: uuid.UUID | None
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    request_id: str | None
    created_at: str
    hash: str


class AuditEvents(Out):
    items: list[AuditEventOut]


class BrokenAt(Out):
    seq: int
    reason: str


class ChainVerification(Out):
    intact: bool
    checked: int
    broken_at: BrokenAt | None = None
