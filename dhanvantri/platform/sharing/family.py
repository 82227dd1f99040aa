"""Family accounts: invitations accepted with a code (the invitee's consent), dependents an
owner creates, levels, leaving and revoking, and reading a dependent's record.

The owner is the account holder. An adult joins only by entering, in their own signed-in
session, the code sent to their phone: that act is their recorded consent. A dependent (a
child, an elderly parent without a phone) is a patient record the owner creates; it has no
login, and the family's managers and viewers act for it (``access.py`` decides who may do
what). Invitations answer alike whether or not the number is a patient's.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from ...http.errors import ApiError, Conflict, NotFound, ValidationFailed
from ...http.principal import Role
from ..accounts import normalize_phone
from ..domain.accounts import OtpPurpose, PatientProfile, User
from ..domain.audit import Actor
from ..notifier import Notifier
from ..otp import OtpIssuer
from ..ratelimit import Lockouts
from ..uow import UnitOfWork
from ..users import birth_date, clean_name
from .access import ensure_family
from .domain import INVITABLE, Action, FamilyMember, Level, MemberStatus
from .record_view import whole_record
from .repository import SharingRepository

ENTITY = "family_member"
INVITE_SCOPE = "family-invite"  # what the lockouts count: wrong invitation codes per invitee
ASKED = "if this number belongs to a patient, they were sent a code to accept in their app"


async def invite(uow: UnitOfWork, otps: OtpIssuer, notifier: Notifier, actor: Actor,
                 phone: str, level: Level, *, region: str = "IN") -> dict[str, Any]:
    """Invite the patient with ``phone`` at ``level``; they accept with the code sent to them.

    The answer is the same whoever the number belongs to (or nobody): no name, no "not found".
    A challenge is stored either way; only a patient who is not already a member is texted.
    """
    assert actor.user_id is not None
    if level not in INVITABLE:
        raise ValidationFailed.field("level", "invite as manager or viewer")
    phone = normalize_phone(phone, region)
    async with uow:
        me = await uow.users.get(actor.user_id)
        if me is not None and me.phone == phone:
            raise ValidationFailed.field("phone", "that is your own number")
        invitee = await uow.users.by_phone(phone)
        if invitee is not None and not _invitable(invitee):
            invitee = None
        challenge, code = otps.issue(OtpPurpose.FAMILY_LINK,
                                     str(invitee.id if invitee else uuid.uuid4()))
        uow.credentials.add(challenge)
        row = None
        if invitee is not None:
            row = await _invited(uow, actor, invitee, level, challenge.id)
        if row is None:
            uow.record(actor, "family_invite_requested", ENTITY, actor.user_id,
                       new={"role": level.value})
        await uow.commit()
    if row is not None:
        await notifier.send_code(phone, code, OtpPurpose.FAMILY_LINK.value)
    return {"message": ASKED, "expires_at": challenge.expires_at.isoformat()}


async def _invited(uow: UnitOfWork, actor: Actor, invitee: User, level: Level,
                   challenge_id: uuid.UUID) -> FamilyMember | None:
    """The invitee's membership, (re)opened as invited; None when they are a member already."""
    assert actor.user_id is not None
    repo = SharingRepository(uow.session)
    row = await repo.membership(actor.user_id, invitee.id)
    if row is not None and row.active:
        return None
    now = uow.clock()
    if row is None:
        row = FamilyMember(owner_id=actor.user_id, member_id=invitee.id, level=level,
                           challenge_id=challenge_id)
        row.touch(now)
        await repo.add(row)
    else:  # left, revoked or invited before: a new invitation, a new consent
        row.status, row.level, row.challenge_id = MemberStatus.INVITED, level, challenge_id
        row.consented_at = None
        row.touch(now)
        await repo.save(row)
    uow.record(actor, "family_member_invited", ENTITY, row.id,
               new={"status": "invited", "role": level.value, "member_id": str(invitee.id)})
    return row


def _invitable(user: User) -> bool:
    return user.role == Role.PATIENT and user.is_active and user.deleted_at is None


async def accept(uow: UnitOfWork, otps: OtpIssuer, actor: Actor, row_id: uuid.UUID, code: str,
                 *, lockouts: Lockouts | None = None) -> dict[str, Any]:
    """The invitee accepts with the code sent to their phone: their consent, recorded.

    Wrong codes count on the challenge and, across challenges, against the invitee
    (``lockouts``); each failure is audited.
    """
    assert actor.user_id is not None
    async with uow:
        repo = SharingRepository(uow.session)
        row = await repo.member(row_id)
        if row is None or row.member_id != actor.user_id or row.status != MemberStatus.INVITED:
            raise NotFound("no such invitation")
        challenge = await uow.credentials.otp(row.challenge_id) if row.challenge_id else None
        if challenge is None or challenge.destination != str(actor.user_id):
            raise NotFound("no such invitation")
        try:
            if lockouts is not None:
                await lockouts.attempt(uow, INVITE_SCOPE, str(actor.user_id))
            otps.check(challenge, code)
        except ApiError as exc:
            uow.record(actor, "family_invite_failed", ENTITY, row.id, new={"reason": exc.code})
            await uow.commit()  # the attempt counters must survive the failure
            raise
        if lockouts is not None:
            await lockouts.clear(uow, INVITE_SCOPE, str(actor.user_id))
        now = uow.clock()
        row.status, row.consented_at = MemberStatus.ACTIVE, now
        row.touch(now)
        await repo.save(row)
        uow.record(actor, "family_invite_accepted", ENTITY, row.id,
                   old={"status": "invited"},
                   new={"status": "active", "role": row.level.value, "purpose": "consent"})
        await uow.commit()
        return await _membership(uow, row)


async def add_dependent(uow: UnitOfWork, actor: Actor, full_name: str, date_of_birth: str,
                        sex: str | None, relation: str | None) -> dict[str, Any]:
    """Create a dependent (no phone, no login) in the caller's family."""
    assert actor.user_id is not None
    name = clean_name(full_name)
    today = (uow.clock() + timedelta(hours=14)).date()  # today somewhere (see users.py)
    born = birth_date(date_of_birth, today)
    async with uow:
        repo = SharingRepository(uow.session)
        if await repo.dependent_row(actor.user_id) is not None:
            raise Conflict("a dependent cannot have dependents of their own")
        now = uow.clock()
        user = User(role=Role.PATIENT, full_name=name)
        user.touch(now)
        profile = PatientProfile(id=user.id, date_of_birth=born, sex=sex)
        profile.touch(now)
        uow.users.add(user)
        await uow.flush()
        uow.users.add(profile)
        await uow.flush()
        row = FamilyMember(owner_id=actor.user_id, member_id=user.id, level=Level.DEPENDENT,
                           status=MemberStatus.ACTIVE, relation=relation, consented_at=now)
        row.touch(now)
        await repo.add(row)
        uow.record(actor, "user_registered", "user", user.id,
                   new={"role": "patient", "kind": "dependent"})
        uow.record(actor, "family_dependent_added", ENTITY, row.id,
                   new={"status": "active", "role": "dependent", "member_id": str(user.id)})
        await uow.commit()
        return await _membership(uow, row)


async def overview(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """The caller's family (as owner), the families they belong to, and invitations to them.

    Pending invitations the caller sent are not listed: that would tell them the number is a
    patient's before its owner agreed.
    """
    assert actor.user_id is not None
    async with uow:
        repo = SharingRepository(uow.session)
        now = uow.clock()
        mine = [await _membership(uow, row) for row in await repo.family_of(actor.user_id)
                if row.active]
        belongs, invited = [], []
        for row in await repo.memberships_of(actor.user_id):
            if row.active and row.level != Level.DEPENDENT:
                belongs.append(await _family(uow, row))
            elif row.status == MemberStatus.INVITED and row.challenge_id is not None:
                challenge = await uow.credentials.otp(row.challenge_id)
                if challenge is not None and challenge.expires_at > now:
                    invited.append({**await _family(uow, row),
                                    "expires_at": challenge.expires_at.isoformat()})
        return {"members": mine, "memberships": belongs, "invitations": invited}


async def set_level(uow: UnitOfWork, actor: Actor, row_id: uuid.UUID, level: Level
                    ) -> dict[str, Any]:
    """The owner changes an adult member's level (manager or viewer)."""
    if level not in INVITABLE:
        raise ValidationFailed.field("level", "manager or viewer")
    async with uow:
        repo, row = await _owned(uow, actor, row_id)
        if row.level == Level.DEPENDENT:
            raise Conflict("a dependent has no level to change")
        old = row.level
        row.level = level
        row.touch(uow.clock())
        await repo.save(row)
        uow.record(actor, "family_level_changed", ENTITY, row.id,
                   old={"role": old.value}, new={"role": level.value})
        await uow.commit()
        return await _membership(uow, row)


async def revoke(uow: UnitOfWork, actor: Actor, row_id: uuid.UUID) -> None:
    """The owner removes an adult member: their access ends at once."""
    async with uow:
        repo, row = await _owned(uow, actor, row_id)
        if row.level == Level.DEPENDENT:
            raise Conflict("a dependent stays in the family that created them")
        row.status = MemberStatus.REVOKED
        row.touch(uow.clock())
        await repo.save(row)
        uow.record(actor, "family_member_revoked", ENTITY, row.id,
                   old={"status": "active"}, new={"status": "revoked"})
        await uow.commit()


async def leave(uow: UnitOfWork, actor: Actor, row_id: uuid.UUID) -> None:
    """A member leaves a family (withdrawing consent is as easy as giving it)."""
    async with uow:
        repo = SharingRepository(uow.session)
        row = await repo.member(row_id)
        if row is None or row.member_id != actor.user_id or not row.active:
            raise NotFound("no such membership")
        row.status = MemberStatus.LEFT
        row.touch(uow.clock())
        await repo.save(row)
        uow.record(actor, "family_member_left", ENTITY, row.id,
                   old={"status": "active"}, new={"status": "left", "purpose": "consent"})
        await uow.commit()


async def record(uow: UnitOfWork, actor: Actor, subject_id: uuid.UUID) -> dict[str, Any]:
    """A family member's record, read through the permission layer (audited)."""
    async with uow:
        level = await ensure_family(uow, actor, subject_id, Action.READ_RECORD)
        body = await whole_record(uow, subject_id)
        uow.record(actor, "family_record_viewed", ENTITY, subject_id, new={"role": level.value})
        await uow.commit()
        return body


async def authorise_consultation(uow: UnitOfWork, actor: Actor, subject_id: uuid.UUID
                                 ) -> dict[str, Any]:
    """Whether the caller may start a consultation whose patient is ``subject_id`` (audited)."""
    async with uow:
        level = await ensure_family(uow, actor, subject_id, Action.START_CONSULTATION)
        await uow.commit()
        return {"patient_id": str(subject_id), "level": level.value}


async def _owned(uow: UnitOfWork, actor: Actor, row_id: uuid.UUID
                 ) -> tuple[SharingRepository, FamilyMember]:
    repo = SharingRepository(uow.session)
    row = await repo.member(row_id)
    if row is None or not row.active:
        raise NotFound("no such family member")
    await ensure_family(uow, actor, row.owner_id, Action.MANAGE_FAMILY)
    return repo, row


async def _membership(uow: UnitOfWork, row: FamilyMember) -> dict[str, Any]:
    user = await uow.users.get(row.member_id)
    return {"id": str(row.id), "member_id": str(row.member_id), "level": row.level.value,
            "status": row.status.value, "relation": row.relation,
            "full_name": user.full_name if user else "",
            "phone_hint": f"••••{user.phone[-4:]}" if user and user.phone else None,
            "consented_at": row.consented_at.isoformat() if row.consented_at else None}


async def _family(uow: UnitOfWork, row: FamilyMember) -> dict[str, Any]:
    owner = await uow.users.get(row.owner_id)
    dependents = [] if not row.active else [
        {"member_id": str(d.member_id), "full_name": (await _name(uow, d.member_id)),
         "relation": d.relation}
        for d in await SharingRepository(uow.session).family_of(row.owner_id)
        if d.active and d.level == Level.DEPENDENT]
    return {"id": str(row.id), "owner_id": str(row.owner_id), "level": row.level.value,
            "status": row.status.value, "owner_name": owner.full_name if owner else "",
            "dependents": dependents}


async def _name(uow: UnitOfWork, user_id: uuid.UUID) -> str:
    user = await uow.users.get(user_id)
    return user.full_name if user else ""
