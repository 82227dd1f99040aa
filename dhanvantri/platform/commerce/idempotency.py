"""Idempotency keys for money-moving requests: the second call with a key replays the first answer.

The key is claimed *before* the work, in the same transaction. A concurrent duplicate blocks on
the unique index until the first commits, then fails and reads the stored answer, so the work
runs once. A failed request stores nothing and may be retried with the same key.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ...http.errors import Conflict
from ..domain.audit import canonical_json
from ..uow import UnitOfWork

Work = Callable[[UnitOfWork], Awaitable[tuple[int, dict[str, Any]]]]


def fingerprint(operation: str, body: Any) -> str:
    """SHA-256 of what the request asks for; a key reused for something else is refused."""
    return hashlib.sha256(canonical_json({"op": operation, "body": body}).encode()).hexdigest()


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
        async with make_uow() as uow:
            stored = await uow.idempotency.stored(user_id, key)
            if stored is not None:
                if stored.fingerprint != print_:
                    raise Conflict("this Idempotency-Key was used for a different request",
                                   code="IDEMPOTENCY_KEY_REUSED")
                return stored.status, stored.response
            claim = await uow.idempotency.claim(user_id, key, print_, uow.clock())
            if claim is None:
                if attempt:
                    raise Conflict("this Idempotency-Key is in use", code="IDEMPOTENCY_CONFLICT")
                continue  # a concurrent request with this key committed first: replay it
            status, response = await work(uow)
            await uow.idempotency.answer(claim, status, response)
            await uow.commit()
            return status, response
    raise AssertionError("unreachable")
