"""Append-only audit events chained by SHA-256: altering or removing a row breaks the chain."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces) so a hash is reproducible anywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


@dataclass(kw_only=True, eq=False)
class AuditEvent:
    """Who did what to which record, with old and new values; ``seq`` orders the chain."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    seq: int = 0
    actor_id: uuid.UUID | None = None  # None: the system itself
    actor_role: str = "system"
    action: str
    entity_type: str
    entity_id: str
    old_values: dict[str, Any] | None = None
    new_values: dict[str, Any] | None = None
    request_id: str | None = None
    created_at: datetime
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def payload(self) -> dict[str, Any]:
        """Everything the hash covers."""
        return {
            "id": str(self.id), "seq": self.seq, "prev_hash": self.prev_hash,
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "actor_role": self.actor_role, "action": self.action,
            "entity_type": self.entity_type, "entity_id": self.entity_id,
            "old_values": self.old_values, "new_values": self.new_values,
            "request_id": self.request_id,
            "created_at": _utc_iso(self.created_at),
        }

    def compute_hash(self) -> str:
        """SHA-256 over the canonical payload (which includes the previous link's hash)."""
        return hashlib.sha256(canonical_json(self.payload()).encode()).hexdigest()

    def seal(self, seq: int, prev_hash: str) -> None:
        """Place the event after the chain's head."""
        self.seq = seq
        self.prev_hash = prev_hash
        self.hash = self.compute_hash()


def _utc_iso(value: datetime) -> str:
    # SQLite hands back naive datetimes; everything stored is UTC, so treat naive as UTC.
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with a role, or the system (``user_id`` None)."""

    user_id: uuid.UUID | None
    role: str
    request_id: str | None = None


SYSTEM = Actor(None, "system")


@dataclass(frozen=True)
class BrokenLink:
    """Where verification first failed."""

    seq: int
    reason: str


class ChainVerifier:
    """Checks links one at a time, so a long trail can be streamed in pages."""

    def __init__(self) -> None:
        self.expected_seq = 1
        self.prev_hash = GENESIS_HASH
        self.broken: BrokenLink | None = None

    def feed(self, event: AuditEvent) -> BrokenLink | None:
        """Check the next event (in ``seq`` order); returns the first break, then sticks to it."""
        if self.broken is None:
            self.broken = self._check(event)
        return self.broken

    def _check(self, event: AuditEvent) -> BrokenLink | None:
        if event.seq != self.expected_seq:
            return BrokenLink(self.expected_seq, f"event {self.expected_seq} is missing")
        if event.prev_hash != self.prev_hash:
            return BrokenLink(event.seq, "previous-hash link does not match")
        if event.compute_hash() != event.hash:
            return BrokenLink(event.seq, "content does not match its hash (altered)")
        self.prev_hash, self.expected_seq = event.hash, self.expected_seq + 1
        return None

    def finish(self, head_seq: int, head_hash: str) -> BrokenLink | None:
        """After the last event: the chain must end where the head says."""
        if self.broken is not None:
            return self.broken
        last = self.expected_seq - 1
        if last != head_seq:
            return BrokenLink(last + 1, f"chain ends at {last} but the head says {head_seq}"
                              " (events removed)")
        if self.prev_hash != head_hash:
            return BrokenLink(head_seq, "last event's hash does not match the head")
        return None


def verify_chain(events: list[AuditEvent], head_seq: int, head_hash: str) -> BrokenLink | None:
    """Verify a whole chain held in memory; see ``ChainVerifier``."""
    verifier = ChainVerifier()
    for event in events:
        if verifier.feed(event):
            break
    return verifier.finish(head_seq, head_hash)
