"""Which role may do what. Routes name a permission; this table is the single place to change it."""

from __future__ import annotations

from enum import StrEnum

from .domain.accounts import Role
from .errors import Forbidden
from .tokens import Principal


class Perm(StrEnum):
    """Permissions checked by routes and use cases."""

    PROFILE_READ = "profile:read"
    PATIENT_PROFILE_WRITE = "patient_profile:write"
    MFA_MANAGE = "mfa:manage"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    RX_QUEUE = "prescriptions:queue"
    RX_READ = "prescriptions:read"  # patients: own; pharmacy and lab: released only
    RX_REVIEW = "prescriptions:review"
    RX_SIGN = "prescriptions:sign"
    RX_ACKNOWLEDGE = "prescriptions:acknowledge"
    RX_RELEASE = "prescriptions:release"


_ALL = frozenset({Perm.PROFILE_READ})
_STAFF = _ALL | {Perm.MFA_MANAGE}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.PATIENT: _ALL | {Perm.PATIENT_PROFILE_WRITE, Perm.RX_READ, Perm.RX_ACKNOWLEDGE,
                          Perm.RX_RELEASE},
    Role.PHYSICIAN: _STAFF | {Perm.RX_QUEUE, Perm.RX_READ, Perm.RX_REVIEW, Perm.RX_SIGN,
                              Perm.RX_RELEASE},
    Role.PHARMACY: _STAFF | {Perm.RX_READ},
    Role.LAB: _STAFF | {Perm.RX_READ},
    Role.ADMIN: _STAFF | {Perm.USERS_READ, Perm.USERS_WRITE, Perm.AUDIT_READ, Perm.RX_READ,
                          Perm.RX_RELEASE},
    Role.SUPPORT: _STAFF | {Perm.USERS_READ},
}


def allowed(role: Role, perm: Perm) -> bool:
    """Whether ``role`` holds ``perm``."""
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def ensure(principal: Principal, perm: Perm) -> None:
    """Raise ``Forbidden`` unless the caller's role holds ``perm``."""
    if not allowed(principal.role, perm):
        raise Forbidden(f"role {principal.role.value} may not {perm.value}",
                        details={"required": perm.value})


def roles_with(perm: Perm) -> list[Role]:
    """Roles that hold ``perm`` (for the OpenAPI document and tests)."""
    return [role for role in Role if allowed(role, perm)]
