"""Audit trail use cases: read events, verify the HMAC chain, export and check head anchors."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .domain.audit import (
    Anchor,
    AuditEvent,
    AuditKeys,
    BrokenLink,
    ChainVerifier,
    canonical_json,
)
from .uow import UnitOfWork

log = logging.getLogger(__name__)
PAGE = 1000
ANCHOR_FILE = "audit_anchors.jsonl"
# The audit keys of each engine (keyed by its dialect, as data_cipher does), for the migration that
# re-seals a chain written before the HMAC chain: migrations see a connection, not the settings.
_KEYS: weakref.WeakKeyDictionary[Any, AuditKeys] = weakref.WeakKeyDictionary()


def attach_keys(engine: Any, keys: AuditKeys) -> None:
    """Let migrations on ``engine`` (sync or async) seal with ``keys``."""
    _KEYS[engine.dialect] = keys


def keys_for(dialect: Any) -> AuditKeys:
    """The audit keys attached to the engine of ``dialect``; ``LookupError`` if none."""
    try:
        return _KEYS[dialect]
    except KeyError:
        raise LookupError("no audit keys on this engine: create it with bootstrap") from None


async def verify_trail(uow: UnitOfWork, anchors: Iterable[Anchor] = ()
                       ) -> tuple[int, BrokenLink | None]:
    """Walk the whole chain in pages, checking every seal under the audit key.

    Args:
        uow: a unit of work (its ``audit_keys`` verify the seals).
        anchors: exported heads the chain must still hold, seal for seal.

    Returns:
        How many events were checked, and the first broken link (``None`` when intact).
    """
    async with uow:
        head_seq, head_hash = await uow.audit.head()
        verifier, after, count = ChainVerifier(uow.audit_keys.chain, anchors), 0, 0
        while True:
            page = await uow.audit.events(after_seq=after, limit=PAGE)
            for event in page:
                count += 1
                if verifier.feed(event):
                    return count, verifier.broken
            if len(page) < PAGE:
                break
            after = page[-1].seq
        return count, verifier.finish(head_seq, head_hash)


async def head_anchor(uow: UnitOfWork) -> Anchor:
    """The chain's head now, to export off the machine."""
    async with uow:
        seq, seal = await uow.audit.head()
        return Anchor(seq, seal, uow.clock())


def read_anchors(path: Path) -> list[Anchor]:
    """Every anchor in an anchor file (one JSON line each); ``ValueError`` names a bad line."""
    anchors = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                anchors.append(Anchor.parse(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    return anchors


def append_anchor(path: Path, anchor: Anchor) -> None:
    """Add one anchor line to ``path`` (created when missing)."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(canonical_json(anchor.as_json()) + "\n")


async def keep_anchoring(uow: Callable[[], UnitOfWork], path: Path, every_s: float) -> None:
    """Append the head to ``path`` every ``every_s`` seconds while it moves, until cancelled.

    The file only helps once it leaves the machine (a log shipper or WORM store reads it): an
    attacker who can rewrite the database and this file alike is caught by the copy elsewhere.
    """
    last: int | None = None
    while True:
        await asyncio.sleep(every_s)
        try:
            anchor = await head_anchor(uow())
            if anchor.seq != last:
                append_anchor(path, anchor)
                last = anchor.seq
                log.info("audit anchor: event %d", anchor.seq)
        except Exception:
            log.exception("writing the audit anchor failed; retrying in %.0f s", every_s)


def describe_event(event: AuditEvent) -> dict[str, Any]:
    """An event as the API shows it (values masked when recorded: see ``mask_values``)."""
    return {"seq": event.seq, "id": str(event.id),
            "actor_id": str(event.actor_id) if event.actor_id else None,
            "actor_role": event.actor_role, "action": event.action,
            "entity_type": event.entity_type, "entity_id": event.entity_id,
            "old_values": event.old_values, "new_values": event.new_values,
            "request_id": event.request_id, "created_at": event.created_at.isoformat(),
            "hash": event.hash}


async def list_events(uow: UnitOfWork, entity_type: str | None, entity_id: str | None,
                      after_seq: int, limit: int) -> list[dict[str, Any]]:
    """Events in chain order, optionally for one entity."""
    async with uow:
        events = await uow.audit.events(entity_type=entity_type, entity_id=entity_id,
                                        after_seq=after_seq, limit=limit)
        return [describe_event(e) for e in events]
