"""Fields stored records carry: a UUID key, and created/updated (and deleted) timestamps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(kw_only=True, eq=False)
class Identified:
    """A record with identity: two objects are the same record when their ids match."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(kw_only=True, eq=False)
class Tracked(Identified):
    """A record that remembers when it was created and last changed."""

    created_at: datetime | None = None
    updated_at: datetime | None = None

    def touch(self, now: datetime) -> None:
        """Stamp creation (first time) and update times."""
        if self.created_at is None:
            self.created_at = now
        self.updated_at = now


@dataclass(kw_only=True, eq=False)
class Entity(Tracked):
    """A tracked record; ``deleted_at`` marks a soft delete (medical records are kept)."""

    deleted_at: datetime | None = None

    def soft_delete(self, now: datetime) -> None:
        """Hide the record from normal reads while keeping it for retention and audit."""
        self.deleted_at = now
        self.updated_at = now
