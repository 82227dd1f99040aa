"""Append-only audit events chained by HMAC-SHA256 under a key kept outside the database.

Each event's seal covers the previous seal, so altering, re-sealing or removing a row breaks the
chain for anyone without the key (a plain hash chain could be recomputed by whoever holds the
database). Values that identify a patient never enter the trail: ``mask_values`` turns them into
keyed hashes that still compare equal between events. An exported ``Anchor`` of the head catches
a chain cut short at its end, which the chain alone cannot see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
VALUE_HASH_CHARS = 32  # 128 bits: enough to tell values apart, too short to matter as a digest

# Values an auditor needs that say nothing about a patient: states, codes, counts, money, ids and
# document digests. An allow-list, so a field added tomorrow is masked until someone decides it is
# safe; names, contact details, ABHA, dates of birth, conditions, allergies, medicines, prescription
# content, red flags and any free text (rejection reasons, notes) are therefore all masked.
PLAIN_FIELDS = frozenset({
    # states and codes
    "status", "version", "purpose", "method", "reason", "role", "kind", "provider", "mode",
    "end_reason", "patient_told", "reference_type", "is_active", "safety_blocked", "escalated",
    "emergency", "escalated_before",
    # counts and money (amounts are strings)
    "amount", "refunded", "total", "gross", "commission", "net", "percent", "capacity", "lines",
    "skus", "turns", "attempts", "ttl", "notes_chars", "waited_s",
    # ids of records and accounts, never of a person's details
    "physician_id", "prescription_id", "consultation_id", "payment_id", "reference_id",
    "merchant_id", "member_id", "user_id", "slot_id", "to", "transaction", "accepted_by",
    "physicians",
    # digests and key ids
    "pdf_sha256", "document_sha256", "record_sha256", "signature_sha256", "key_id",
})


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces) so a hash is reproducible anywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


@dataclass(frozen=True, repr=False)
class AuditKeys:
    """The chain's sealing key and the key of masked values, both from one audit secret."""

    chain: bytes
    values: bytes

    @classmethod
    def derive(cls, secret: bytes) -> AuditKeys:
        """Two keys from one secret: a leaked value key cannot re-seal the chain."""
        def sub(label: bytes) -> bytes:
            return hmac.new(secret, label, hashlib.sha256).digest()
        return cls(chain=sub(b"dhanvantri/audit/chain"), values=sub(b"dhanvantri/audit/values"))


def value_hash(key: bytes, name: str, value: Any) -> str:
    """Keyed hash of one field's value: equal values of one field hash alike, nothing more."""
    message = f"{name}\0{canonical_json(value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:VALUE_HASH_CHARS]


def mask_values(old: dict[str, Any] | None, new: dict[str, Any] | None, key: bytes
                ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Old and new values as the trail keeps them: plain fields as they are, every other field
    as ``{"changed": bool, "hash": keyed hash}`` (``None`` stays ``None``)."""
    def mask(values: dict[str, Any] | None, other: dict[str, Any] | None
             ) -> dict[str, Any] | None:
        if values is None:
            return None
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name in PLAIN_FIELDS or value is None:
                out[name] = value
            else:
                changed = other is None or name not in other or other[name] != value
                out[name] = {"changed": changed, "hash": value_hash(key, name, value)}
        return out
    return mask(old, new), mask(new, old)


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
    hash: str = ""  # the seal

    def payload(self) -> dict[str, Any]:
        """Everything the seal covers."""
        return {
            "id": str(self.id), "seq": self.seq, "prev_hash": self.prev_hash,
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "actor_role": self.actor_role, "action": self.action,
            "entity_type": self.entity_type, "entity_id": self.entity_id,
            "old_values": self.old_values, "new_values": self.new_values,
            "request_id": self.request_id,
            "created_at": _utc_iso(self.created_at),
        }

    def compute_seal(self, key: bytes) -> str:
        """HMAC-SHA256 under the chain key of the previous seal and the canonical event."""
        message = f"{self.prev_hash}\n{canonical_json(self.payload())}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def legacy_hash(self) -> str:
        """The plain SHA-256 seal of chains written before the HMAC chain (upgrades only)."""
        return hashlib.sha256(canonical_json(self.payload()).encode()).hexdigest()

    def seal(self, seq: int, prev_hash: str, key: bytes) -> None:
        """Place the event after the chain's head."""
        self.seq = seq
        self.prev_hash = prev_hash
        self.hash = self.compute_seal(key)


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
class Anchor:
    """The chain's head as exported off the machine: its sequence number, seal and time."""

    seq: int
    seal: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        """The one-line JSON form of an anchor file."""
        return {"seq": self.seq, "seal": self.seal,
                "at": self.at.astimezone(UTC).isoformat(timespec="seconds")}

    @classmethod
    def parse(cls, line: str) -> Anchor:
        """One anchor line; ``ValueError`` when it is not one."""
        try:
            data = json.loads(line)
            anchor = cls(int(data["seq"]), str(data["seal"]), datetime.fromisoformat(data["at"]))
        except (TypeError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"not an audit anchor: {exc}") from exc
        if anchor.seq < 0 or len(anchor.seal) != 64:
            raise ValueError("not an audit anchor: bad seq or seal")
        return anchor


@dataclass(frozen=True)
class BrokenLink:
    """Where verification first failed."""

    seq: int
    reason: str


class ChainVerifier:
    """Checks links one at a time, so a long trail can be streamed in pages.

    ``seal`` computes an event's seal (the HMAC under the chain key; the legacy SHA-256 only when
    upgrading an old chain). ``anchors`` are exported heads the chain must still hold.
    """

    def __init__(self, key: bytes, anchors: Iterable[Anchor] = ()) -> None:
        self.key = key
        self.anchors: Mapping[int, str] = {a.seq: a.seal for a in anchors}
        self.expected_seq = 1
        self.prev_hash = GENESIS_HASH
        self.broken: BrokenLink | None = None

    def seal_of(self, event: AuditEvent) -> str:
        """The seal ``event`` must carry."""
        return event.compute_seal(self.key)

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
        if not hmac.compare_digest(self.seal_of(event), event.hash):
            return BrokenLink(event.seq, "content does not match its seal (altered or re-sealed)")
        if self.anchors.get(event.seq, event.hash) != event.hash:
            return BrokenLink(event.seq, "seal differs from the exported anchor (re-sealed)")
        self.prev_hash, self.expected_seq = event.hash, self.expected_seq + 1
        return None

    def finish(self, head_seq: int, head_hash: str) -> BrokenLink | None:
        """After the last event: the chain must end where the head says, and reach every
        anchor."""
        if self.broken is not None:
            return self.broken
        last = self.expected_seq - 1
        if last != head_seq:
            return BrokenLink(last + 1, f"chain ends at {last} but the head says {head_seq}"
                              " (events removed)")
        if self.prev_hash != head_hash:
            return BrokenLink(head_seq, "last event's seal does not match the head")
        beyond = [seq for seq in self.anchors if seq > last]
        if beyond:
            return BrokenLink(last + 1, f"chain ends at {last} but an anchor holds event"
                              f" {max(beyond)} (events removed)")
        return None


class LegacyVerifier(ChainVerifier):
    """Verifies a chain sealed with plain SHA-256 (before the HMAC chain), to upgrade it."""

    def seal_of(self, event: AuditEvent) -> str:
        return event.legacy_hash()


def verify_chain(events: list[AuditEvent], head_seq: int, head_hash: str, key: bytes,
                 anchors: Iterable[Anchor] = ()) -> BrokenLink | None:
    """Verify a whole chain held in memory; see ``ChainVerifier``."""
    verifier = ChainVerifier(key, anchors)
    for event in events:
        if verifier.feed(event):
            break
    return verifier.finish(head_seq, head_hash)
