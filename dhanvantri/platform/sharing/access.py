"""The permission layer for one person acting on another's record.

Every family read or action asks :func:`ensure_family` first: it finds the caller's level over
the subject (themselves: owner; a dependent of a family they are active in: their level there;
anyone else: none), checks it against ``domain.MATRIX`` and writes an audit event either way,
so a refused try is as visible as an allowed one. Someone with no relation gets "not found",
so a guessed id says nothing about who exists.
"""

from __future__ import annotations

import uuid

from ...http.errors import Forbidden, NotFound
from ..domain.audit import Actor
from ..uow import UnitOfWork
from .domain import Action, Level, permits
from .repository import SharingRepository

ENTITY = "family_access"


async def level_over(uow: UnitOfWork, actor_id: uuid.UUID, subject_id: uuid.UUID
                     ) -> Level | None:
    """The caller's level over ``subject_id``'s record (inside an open unit of work)."""
    if actor_id == subject_id:
        return Level.OWNER
    repo = SharingRepository(uow.session)
    dependent = await repo.dependent_row(subject_id)
    if dependent is None:
        return None  # an adult's record is theirs alone; they share it by QR if they wish
    return await level_in(uow, actor_id, dependent.owner_id)


async def level_in(uow: UnitOfWork, actor_id: uuid.UUID, owner_id: uuid.UUID) -> Level | None:
    """The caller's level in ``owner_id``'s family (its owner: owner; an active member: their
    level; anyone else: none)."""
    if actor_id == owner_id:
        return Level.OWNER
    membership = await SharingRepository(uow.session).membership(owner_id, actor_id)
    if membership is None or not membership.active or membership.level == Level.DEPENDENT:
        return None
    return membership.level


async def ensure_family(uow: UnitOfWork, actor: Actor, subject_id: uuid.UUID, action: Action
                        ) -> Level:
    """Raise unless the caller may do ``action`` on ``subject_id``; audit the decision.

    ``subject_id`` is the person acted for; for ``MANAGE_FAMILY`` it is the family's owner.

    Raises:
        NotFound: the caller has no relation to the subject.
        Forbidden: a relation whose level does not allow ``action``.
    """
    assert actor.user_id is not None
    if action == Action.MANAGE_FAMILY:
        level = await level_in(uow, actor.user_id, subject_id)
    else:
        level = await level_over(uow, actor.user_id, subject_id)
    allowed = permits(level, action)
    uow.record(actor, f"family_{action.value}_{'allowed' if allowed else 'denied'}", ENTITY,
               subject_id, new={"role": level.value if level else None, "kind": action.value})
    if allowed:
        assert level is not None
        return level
    await uow.commit()  # the refusal is kept, though the request fails
    if level is None:
        raise NotFound("no such family member")
    raise Forbidden(f"a {level.value} may not {action.value.replace('_', ' ')}",
                    details={"level": level.value, "action": action.value})
