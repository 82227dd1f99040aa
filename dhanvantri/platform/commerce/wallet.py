"""The patient's wallet: balance from the ledger, top-up, transfer to family, history.

Paying from the wallet and refunds into it go through the ``Cashier``; all of them post
balanced ledger transactions, so the wallet never goes below zero.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from ...http.errors import NotFound, ValidationFailed
from ...http.principal import Role
from ..accounts import normalize_phone
from ..domain.audit import Actor
from ..domain.ledger import WALLET, Leg
from ..domain.money import text
from ..domain.payments import WALLET_TOPUP
from ..domain.wallet import FamilyLink
from ..uow import UnitOfWork
from .payments import Cashier

ENTITY = "wallet"


async def view(uow: UnitOfWork, actor: Actor, limit: int = 50) -> dict[str, Any]:
    """Balance (the sum of entries) and the newest entries."""
    async with uow:
        account = await uow.ledger.account_id(WALLET, str(actor.user_id), uow.clock())
        await uow.commit()
        return {"balance": text(await uow.ledger.balance(account)),
                "entries": [{"amount": str(e.amount), "kind": e.kind, "reference": e.reference,
                             "created_at": e.created_at.isoformat()}
                            for e in await uow.ledger.entries(account, limit)]}


async def top_up(uow: UnitOfWork, cashier: Cashier, actor: Actor, amount: Decimal
                 ) -> tuple[int, dict[str, Any]]:
    """Start a gateway payment that credits the wallet when captured."""
    return 201, await cashier.start(uow, actor, WALLET_TOPUP, None, amount, "gateway")


async def add_family(uow: UnitOfWork, actor: Actor, phone: str) -> dict[str, Any]:
    """Link another patient (by phone) as a family member who may receive transfers."""
    assert actor.user_id is not None
    phone = normalize_phone(phone)
    async with uow:
        member = await uow.users.by_phone(phone)
        if member is None or member.role != Role.PATIENT or member.id == actor.user_id:
            raise NotFound("no such patient")
        if await uow.family.link(actor.user_id, member.id) is None:
            uow.family.add(FamilyLink(owner_id=actor.user_id, member_id=member.id,
                                      created_at=uow.clock()))
            uow.record(actor, "family_member_added", ENTITY, actor.user_id,
                       new={"member_id": str(member.id)})
            await uow.commit()
        return {"member_id": str(member.id), "full_name": member.full_name}


async def transfer(uow: UnitOfWork, actor: Actor, member_id: uuid.UUID, amount: Decimal
                   ) -> tuple[int, dict[str, Any]]:
    """Move money to a linked family member's wallet (inside the idempotency wrapper)."""
    assert actor.user_id is not None
    if amount <= 0:
        raise ValidationFailed.field("amount", "must be positive")
    if await uow.family.link(actor.user_id, member_id) is None:
        raise NotFound("not a family member", details=[{"field": "member_id",
                                                        "message": "add them first"}])
    txn = await uow.ledger.post("transfer", member_id, [
        Leg(WALLET, str(actor.user_id), -amount), Leg(WALLET, str(member_id), amount)],
        uow.clock())
    uow.record(actor, "wallet_transfer", ENTITY, actor.user_id,
               new={"to": str(member_id), "amount": text(amount), "transaction": str(txn)})
    return 201, {"transaction_id": str(txn), "amount": text(amount), "to": str(member_id)}
