"""Who is calling: a user id and the role they act in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Who a user is; permissions hang off the role (see ``permissions.py``)."""

    PATIENT = "patient"
    PHYSICIAN = "physician"
    PHARMACY = "pharmacy"
    LAB = "lab"
    ADMIN = "admin"
    SUPPORT = "support"


STAFF_ROLES = frozenset(Role) - {Role.PATIENT}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: uuid.UUID
    role: Role
