"""Audit trail: PHI values masked, chain re-sealed with HMAC-SHA256 under the audit key

Revision ID: 0006_audit_hmac
Revises: 0005_sealed
Create Date: 2026-11-30 07:00:00

No schema change. Chains written before this revision are plain SHA-256, which anyone holding the
database can recompute. The old chain is verified first; its intact prefix gets its values masked
(``mask_values``) and is re-sealed with the HMAC chain key, so no SHA-256 seal is ever trusted
again. Events from a first break on keep their seals (values masked all the same), so
``audit verify`` still names that break. The key comes from the engine's server (``db upgrade`` or
start-up); the alembic tool alone reads the settings from the environment. Downgrade keeps the
trail as it is: masked values cannot be restored.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from dhanvantri.platform.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditKeys,
    LegacyVerifier,
    mask_values,
)
from dhanvantri.platform.tables.types import UTCDateTime

revision = '0006_audit_hmac'
down_revision = '0005_sealed'
branch_labels = None
depends_on = None

EVENTS = sa.table(
    "audit_events", sa.column("id", sa.Uuid()), sa.column("seq", sa.BigInteger()),
    sa.column("actor_id", sa.Uuid()), sa.column("actor_role", sa.String()),
    sa.column("action", sa.String()), sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.String()), sa.column("old_values", sa.JSON()),
    sa.column("new_values", sa.JSON()), sa.column("request_id", sa.String()),
    sa.column("created_at", UTCDateTime()), sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()))
HEAD = sa.table("audit_head", sa.column("id", sa.Integer()), sa.column("seq", sa.BigInteger()),
                sa.column("hash", sa.String()))


def _keys() -> AuditKeys:
    from dhanvantri.platform import audit

    try:
        return audit.keys_for(op.get_bind().dialect)
    except LookupError:  # the alembic tool's own engine: the key from the environment
        from dhanvantri.platform.keys import audit_key
        from dhanvantri.settings import Settings

        return AuditKeys.derive(audit_key(Settings()))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(EVENTS).order_by(EVENTS.c.seq)).mappings().all()
    if not rows:
        return
    keys = _keys()
    events = [AuditEvent(**row) for row in rows]
    legacy = LegacyVerifier(b"")
    intact = 0
    for event in events:
        if legacy.feed(event):
            break
        intact += 1
    head_seq, head_hash = bind.execute(sa.select(HEAD.c.seq, HEAD.c.hash)).one()
    whole = legacy.finish(head_seq, head_hash) is None
    prev = GENESIS_HASH
    for index, event in enumerate(events):
        old, new = mask_values(event.old_values, event.new_values, keys.values)
        values: dict[str, Any] = {"old_values": old, "new_values": new}
        if index < intact:
            event.old_values, event.new_values = old, new
            event.seal(event.seq, prev, keys.chain)
            prev = event.hash
            values.update(prev_hash=event.prev_hash, hash=event.hash)
        bind.execute(EVENTS.update().where(EVENTS.c.id == event.id).values(**values))
    if whole:
        bind.execute(HEAD.update().where(HEAD.c.id == 1).values(hash=prev))


def downgrade() -> None:
    pass  # masked values cannot be restored; the HMAC chain stays
