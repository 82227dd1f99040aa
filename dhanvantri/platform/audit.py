"""Audit trail use cases: read events and verify the hash chain."""

from __future__ import annotations

from typing import Any

from .domain.audit import AuditEvent, BrokenLink, ChainVerifier
from .uow import UnitOfWork

PAGE = 1000


async def verify_trail(uow: UnitOfWork) -> tuple[int, BrokenLink | None]:
    """Walk the whole chain in pages.

    Returns:
        How many events were checked, and the first broken link (``None`` when intact).
    """
    async with uow:
        head_seq, head_hash = await uow.audit.head()
        verifier, after, count = ChainVerifier(), 0, 0
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


def describe_event(event: AuditEvent) -> dict[str, Any]:
    """An event as the API shows it."""
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
