"""Request bodies and query strings. They validate input and feed the OpenAPI document."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ...http.principal import Role
from ..domain.prescriptions import Status


def _printable(value: str) -> str:
    # NUL and other control characters are refused (PostgreSQL text cannot hold NUL at all).
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


def Text(max_length: int, min_length: int = 0) -> type[str]:
    """A string field with length bounds and no control characters."""
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
    password: Text(1024, 1)  # type: ignore[valid-type]
    totp_code: Code6 | None = None


class RefreshIn(Body):
    refresh_token: Text(200, 10)  # type: ignore[valid-type]


class MfaConfirmIn(Body):
    code: Code6


class PatientProfileIn(Body):
    full_name: Text(200) | None = None  # type: ignore[valid-type]
    abha_number: Text(20) | None = None  # type: ignore[valid-type]
    date_of_birth: date | None = None
    sex: Literal["female", "male", "other"] | None = None
    allergies: list[Text(100, 1)] | None = Field(None, max_length=50)  # type: ignore[valid-type]
    conditions: list[Text(100, 1)] | None = Field(None, max_length=50)  # type: ignore[valid-type]
    medicines: list[Text(100, 1)] | None = Field(None, max_length=50)  # type: ignore[valid-type]


class StaffIn(Body):
    email: Text(320, 3)  # type: ignore[valid-type]
    password: Text(1024, 12)  # type: ignore[valid-type]
    role: StaffRole
    full_name: Text(200, 1)  # type: ignore[valid-type]
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


class PrescriptionEditIn(Body):
    diagnosis: Text(500) = ""  # type: ignore[valid-type]
    diagnosis_confidence: Literal["HIGH", "MEDIUM", "LOW", ""] = ""
    medications: list[MedicationIn] = Field(default_factory=list, max_length=30)
    lab_tests: list[Text(500)] = Field(default_factory=list, max_length=30)  # type: ignore[valid-type]
    advice: list[Text(500)] = Field(default_factory=list, max_length=30)  # type: ignore[valid-type]
    red_flags: list[Text(500)] = Field(default_factory=list, max_length=30)  # type: ignore[valid-type]
    follow_up_days: int | None = Field(None, ge=0, le=365)


class RejectIn(Body):
    reason: Text(1000, 1)  # type: ignore[valid-type]


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
