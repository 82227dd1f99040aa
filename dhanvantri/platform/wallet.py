"""The patient's wallet: balance from the ledger, top-up, transfer to family, history.

Paying from the wallet and refunds into it go through ``payments.py``; all of them post
balanced ledger transactions (``ledger.py``), so the wallet never goes below zero.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..http.errors import NotFound, ValidationFailed
from ..http.principal import Role
from . import ledger, payments
from .accounts import normalize_phone
from .commerce_tables import family_links
from .domain.audit import Actor
from .domain.commerce import text
from .gateways import PaymentGateway
from .ledger import Leg
from .uow import UnitOfWork

ENTITY = "wallet"


async def view(uow: UnitOfWork, actor: Actor, limit: int = 50) -> dict[str, Any]:
    """Balance (the sum of entries) and the newest entries."""
    async with uow:
        owner = str(actor.user_id)
        account = await ledger.account_id(uow.session, ledger.WALLET, owner, uow.clock())
        await uow.commit()
        return {"balance": text(await ledger.balance(uow.session, account)),
                "entries": await ledger.entries(uow.session, account, limit)}


async def top_up(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor, amount: Decimal
                 ) -> tuple[int, dict[str, Any]]:
    """Start a gateway payment that credits the wallet when captured."""
    return 201, await payments.start(uow, gateway, actor, "wallet_topup", None, amount,
                                     "gateway")


async def add_family(uow: UnitOfWork, actor: Actor, phone: str) -> dict[str, Any]:
    """Link another patient (by phone) as a family member who may receive transfers."""
    phone = normalize_phone(phone)
    async with uow:
        member = await uow.users.by_phone(phone)
        if member is None or member.role != Role.PATIENT or member.id == actor.user_id:
            raise NotFound("no such patient")
        exists = await uow.session.scalar(select(family_links.c.id).where(
            family_links.c.owner_id == actor.user_id, family_links.c.member_id == member.id))
        if exists is None:
            await uow.session.execute(family_links.insert().values(
                id=uuid.uuid4(), owner_id=actor.user_id, member_id=member.id,
                created_at=uow.clock()))
            uow.record(actor, "family_member_added", ENTITY, actor.user_id,
                       new={"member_id": str(member.id)})
            await uow.commit()
        return {"member_id": str(member.id), "full_name": member.full_name}


async def transfer(uow: UnitOfWork, actor: Actor, member_id: uuid.UUID, amount: Decimal
                   ) -> tuple[int, dict[str, Any]]:
    """Move money to a linked family member's wallet (inside the idempotency wrapper)."""
    if amount <= 0:
        raise ValidationFailed.field("amount", "must be positive")
    linked = await uow.session.scalar(select(family_links.c.id).where(
        family_links.c.owner_id == actor.user_id, family_links.c.member_id == member_id))
    if linked is None:
        raise NotFound("not a family member", details=[{"field": "member_id",
                                                        "message": "add them first"}])
    txn = await ledger.post(uow.session, "transfer", member_id, [
        Leg(ledger.WALLET, str(actor.user_id), -amount),
        Leg(ledger.WALLET, str(member_id), amount)], uow.clock())
    uow.record(actor, "wallet_transfer", ENTITY, actor.user_id,
               new={"to": str(member_id), "amount": text(amount), "transaction": str(txn)})
    return 201, {"transaction_id": str(txn), "amount": text(amount),
                 "to": str(member_id)}


async def debit(uow: UnitOfWork, actor: Actor, amount: Decimal, reference: str
                ) -> tuple[int, dict[str, Any]]:
    """Pay ``amount`` from the wallet into escrow for ``reference`` (inside a unit of work)."""
    txn = await ledger.post(uow.session, "wallet_payment", reference, [
        Leg(ledger.WALLET, str(actor.user_id), -amount),
        Leg(ledger.ESCROW, ledger.SYSTEM_OWNER, amount)], uow.clock())
    uow.record(actor, "wallet_debited", ENTITY, actor.user_id,
               new={"amount": text(amount), "reference": reference})
    return 201, {"transaction_id": str(txn), "amount": text(amount)}
