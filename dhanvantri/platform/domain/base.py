"""Fields every stored record carries: a UUID key and created/updated/deleted timestamps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(kw_only=True, eq=False)
class Entity:
    """A record with identity. ``deleted_at`` marks a soft delete (medical records are kept)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None

    def touch(self, now: datetime) -> None:
        """Stamp creation (first time) and update times."""
        if self.created_at is None:
            self.created_at = now
        self.updated_at = now

    def soft_delete(self, now: datetime) -> None:
        """Hide the record from normal reads while keeping it for retention and audit."""
        self.deleted_at = now
        self.updated_at = now

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
