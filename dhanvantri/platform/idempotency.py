"""Idempotency keys for money-moving requests: the second call with a key replays the first answer.

The key row is inserted *before* the work, in the same transaction. A concurrent duplicate
blocks on the unique index until the first commits, then fails and reads the stored answer, so
the work runs once. A failed request stores nothing and may be retried with the same key.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..http.errors import Conflict
from .commerce_tables import idempotency_keys
from .domain.audit import canonical_json
from .uow import UnitOfWork

Work = Callable[[UnitOfWork], Awaitable[tuple[int, dict[str, Any]]]]


def fingerprint(operation: str, body: Any) -> str:
    """SHA-256 of what the request asks for; a key reused for something else is refused."""
    return hashlib.sha256(canonical_json({"op": operation, "body": body}).encode()).hexdigest()


async def _stored(uow: UnitOfWork, user_id: uuid.UUID, key: str, print_: str
                  ) -> tuple[int, dict[str, Any]] | None:
    row = (await uow.session.execute(
        select(idempotency_keys.c.fingerprint, idempotency_keys.c.status,
               idempotency_keys.c.response)
        .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key))).first()
    if row is None:
        return None
    if row.fingerprint != print_:
        raise Conflict("this Idempotency-Key was used for a different request",
                       code="IDEMPOTENCY_KEY_REUSED")
    return row.status, row.response


async def run_once(make_uow: Callable[[], UnitOfWork], user_id: uuid.UUID, key: str,
                   operation: str, body: Any, work: Work) -> tuple[int, dict[str, Any]]:
    """Run ``work`` once per ``(user, key)`` and commit; replay the stored answer afterwards.

    Args:
        make_uow: builds a fresh unit of work.
        user_id: whose key it is (keys are scoped per caller).
        key: the ``Idempotency-Key`` header.
        operation: names the operation (part of the fingerprint).
        body: the request's parameters (part of the fingerprint).
        work: stages the change in the unit of work (without committing) and returns the HTTP
            status and JSON body.

    Returns:
        The status and body: fresh, or exactly those of the first successful call.
    """
    print_ = fingerprint(operation, body)
    for attempt in range(2):
        uow = make_uow()
        async with uow:
            stored = await _stored(uow, user_id, key, print_)
            if stored is not None:
                return stored
            row_id = uuid.uuid4()
            try:
                await uow.session.execute(idempotency_keys.insert().values(
                    id=row_id, user_id=user_id, key=key, fingerprint=print_, status=0,
                    response={}, created_at=uow.clock()))
            except IntegrityError:
                if attempt:
                    raise
                continue  # a concurrent request with this key committed first: replay it
            status, response = await work(uow)
            await uow.session.execute(update(idempotency_keys)
                                      .where(idempotency_keys.c.id == row_id)
                                      .values(status=status, response=response))
            await uow.commit()
            return status, response
    raise AssertionError("unreachable")
