"""The patient's wallet: balance from the ledger, top-up, transfer to family, history.

A family member is added only with their consent: they are sent a code and read it out to the
one adding them (``ask_family``, then ``confirm_family``).

Paying from the wallet and refunds into it go through the ``Cashier``; all of them post
balanced ledger transactions, so the wallet never goes below zero.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from ...http.errors import ApiError, NotFound, Unauthorized, ValidationFailed
from ...http.principal import Role
from ..accounts import normalize_phone
from ..domain.accounts import OtpPurpose, User
from ..domain.audit import Actor
from ..domain.ledger import WALLET, Leg
from ..domain.money import text
from ..domain.payments import WALLET_TOPUP
from ..domain.wallet import FamilyLink
from ..notifier import Notifier
from ..otp import OtpIssuer
from ..ratelimit import Lockouts
from ..uow import UnitOfWork
from .payments import Cashier

ENTITY = "wallet"
FAMILY_SCOPE = "family-link"  # what the lockouts count: wrong family codes per asker
ASKED = "if this number belongs to a patient, they were sent a code"
# The most one top-up may be: a small prepaid instrument's monthly load limit under the RBI's
# Master Direction on PPIs (minimum-KYC wallets), so no single top-up could ever exceed it.
TOPUP_MAX = Decimal("10000.00")


async def view(uow: UnitOfWork, actor: Actor, limit: int = 50) -> dict[str, Any]:
    """Balance (the sum of entries) and the newest entries."""
    async with uow:
        account = await uow.ledger.account_id(WALLET, str(actor.user_id), uow.clock())
        await uow.commit()
        return {"balance": text(await uow.ledger.balance(account)),
                "topup_max": text(TOPUP_MAX),
                "entries": [{"amount": str(e.amount), "kind": e.kind, "reference": e.reference,
                             "created_at": e.created_at.isoformat()}
                            for e in await uow.ledger.entries(account, limit)]}


async def top_up(uow: UnitOfWork, cashier: Cashier, actor: Actor, amount: Decimal
                 ) -> tuple[int, dict[str, Any]]:
    """Start a gateway payment that credits the wallet when captured."""
    if amount > TOPUP_MAX:
        raise ValidationFailed.field("amount", f"at most {text(TOPUP_MAX)} in one top-up")
    return 201, await cashier.start(uow, actor, WALLET_TOPUP, None, amount, "gateway")


async def ask_family(uow: UnitOfWork, otps: OtpIssuer, notifier: Notifier, actor: Actor,
                     phone: str, *, region: str = "IN", lockouts: Lockouts | None = None
                     ) -> dict[str, Any]:
    """Ask to add the patient with ``phone`` as family: they are sent a code to read out.

    Anyone may type any number, so the answer is the same whoever it belongs to: no name, no
    "not found". A challenge is stored either way, naming the member by id (no phone kept) or,
    for a number with no patient, by an id nobody has; only a patient is sent a code.
    """
    assert actor.user_id is not None
    phone = normalize_phone(phone, region)
    async with uow:
        me = await uow.users.get(actor.user_id)
        if me is not None and me.phone == phone:
            raise ValidationFailed.field("phone", "that is your own number")
        if lockouts is not None:
            await lockouts.ensure_open(uow, FAMILY_SCOPE, str(actor.user_id))
        member = await uow.users.by_phone(phone)
        found = member is not None and _linkable(member, actor)
        target = str(member.id) if member is not None and found else str(uuid.uuid4())
        challenge, code = otps.issue(OtpPurpose.FAMILY_LINK, target, subject_id=actor.user_id)
        uow.credentials.add(challenge)
        uow.record(actor, "family_link_requested", ENTITY, actor.user_id,
                   new={"challenge_id": str(challenge.id)})
        await uow.commit()
    if found:
        await notifier.send_code(phone, code, OtpPurpose.FAMILY_LINK.value)
    return {"challenge_id": str(challenge.id), "expires_at": challenge.expires_at.isoformat(),
            "message": ASKED}


def _linkable(member: User, actor: Actor) -> bool:
    return (member.role == Role.PATIENT and member.is_active and member.deleted_at is None
            and member.id != actor.user_id)


async def confirm_family(uow: UnitOfWork, otps: OtpIssuer, actor: Actor,
                         challenge_id: uuid.UUID, code: str, *,
                         lockouts: Lockouts | None = None) -> dict[str, Any]:
    """Link the member whose code this is: the code is their consent.

    The member reads the code out to the one adding them, at home or on a call, as families
    already do with bank and delivery codes. Only the one who asked can use it; every wrong
    try counts against them across all their challenges (``lockouts``), and is audited.
    """
    assert actor.user_id is not None
    async with uow:
        try:
            member = await _consenting(uow, otps, actor, challenge_id, code, lockouts)
        except ApiError as exc:
            uow.record(actor, "family_link_failed", ENTITY, actor.user_id,
                       new={"reason": exc.code})
            await uow.commit()  # the attempt counters must survive the failure
            raise
        if await uow.family.link(actor.user_id, member.id) is None:
            uow.family.add(FamilyLink(owner_id=actor.user_id, member_id=member.id,
                                      created_at=uow.clock()))
            uow.record(actor, "family_member_added", ENTITY, actor.user_id,
                       new={"member_id": str(member.id)})
        await uow.commit()
        # The name only now, when its owner has agreed: the payer sees whom they will pay.
        return {"member_id": str(member.id), "full_name": member.full_name}


async def _consenting(uow: UnitOfWork, otps: OtpIssuer, actor: Actor, challenge_id: uuid.UUID,
                      code: str, lockouts: Lockouts | None) -> User:
    """The member a right code names; ``OTP_INVALID`` for anything else, alike."""
    challenge = await uow.credentials.otp(challenge_id)
    if (challenge is None or challenge.purpose != OtpPurpose.FAMILY_LINK
            or challenge.subject_id != actor.user_id):
        raise Unauthorized("unknown or expired code", code="OTP_INVALID")
    if lockouts is not None:
        await lockouts.attempt(uow, FAMILY_SCOPE, str(actor.user_id))
    otps.check(challenge, code)
    member = await uow.users.get(uuid.UUID(challenge.destination))
    if member is None or not _linkable(member, actor):
        raise Unauthorized("unknown or expired code", code="OTP_INVALID")
    if lockouts is not None:
        await lockouts.clear(uow, FAMILY_SCOPE, str(actor.user_id))
    return member


async def transfer(uow: UnitOfWork, actor: Actor, member_id: uuid.UUID, amount: Decimal
                   ) -> tuple[int, dict[str, Any]]:
    """Move money to a linked family member's wallet (inside the idempotency wrapper)."""
    assert actor.user_id is not None
    if amount <= 0:
        raise ValidationFailed.field("amount", "must be more than zero")
    if await uow.family.link(actor.user_id, member_id) is None:
        raise NotFound("not a family member", details=[{"field": "member_id",
                                                        "message": "add them first"}])
    txn = await uow.ledger.post("transfer", member_id, [
        Leg(WALLET, str(actor.user_id), -amount), Leg(WALLET, str(member_id), amount)],
        uow.clock())
    uow.record(actor, "wallet_transfer", ENTITY, actor.user_id,
               new={"to": str(member_id), "amount": text(amount), "transaction": str(txn)})
    return 201, {"transaction_id": str(txn), "amount": text(amount), "to": str(member_id)}


async def family(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """The members the patient added (who may receive transfers), with the last four digits of
    their number so that two members of one name can be told apart."""
    assert actor.user_id is not None
    async with uow:
        return [{"member_id": str(user.id), "full_name": user.full_name,
                 "phone_hint": f"••••{user.phone[-4:]}" if user.phone else None,
                 "linked_at": link.created_at.isoformat()}
                for link, user in await uow.family.members(actor.user_id)]
