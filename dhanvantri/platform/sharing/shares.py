"""Shares: part of a record (all of it, one prescription, one lab report) for a while, to a
doctor elsewhere who scans a QR code and enters the code the patient reads out.

The link's token names the share; the six-digit code proves the patient is there and agrees.
Three wrong codes lock the share for good. The right code gives the recipient's browser a
session token bound to this share alone, which ends when the share expires or is revoked.
Every open, wrong code and view is audited.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from ...http.errors import Conflict, NotFound, Unauthorized
from ..domain.audit import Actor
from ..otp import CodeHasher
from ..uow import UnitOfWork
from .domain import (
    SHARE_CODE_TRIES,
    Share,
    ShareKind,
    ShareState,
    new_token,
    token_hash,
)
from .emergency_card import PUBLIC, qr_svg
from .errors import Gone
from .record_view import one_lab_report, one_prescription, whole_record
from .repository import SharingRepository

log = logging.getLogger(__name__)
ENTITY = "record_share"
PAGE = "/shared"  # serves web_client/shared_view.html


def share_url(base_url: str, token: str) -> str:
    """The share's link; the token rides in the fragment (never sent to a server)."""
    return f"{base_url.rstrip('/')}{PAGE}#{token}"


async def create(uow: UnitOfWork, codes: CodeHasher, actor: Actor, base_url: str,
                 kind: ShareKind, reference_id: uuid.UUID | None, minutes: int
                 ) -> dict[str, Any]:
    """A new share; its link, QR code and spoken code are shown to the patient only now."""
    assert actor.user_id is not None
    token, code = new_token(), codes.new_code()
    async with uow:
        await _content(uow, actor.user_id, kind, reference_id)  # it must exist and be theirs
        now = uow.clock()
        share = Share(patient_id=actor.user_id, kind=kind, reference_id=reference_id,
                      token_hash=token_hash(token), code_hash="",
                      expires_at=now + timedelta(minutes=minutes))
        share.code_hash = codes.hash(f"share:{share.id}", code)
        share.touch(now)
        await SharingRepository(uow.session).add(share)
        uow.record(actor, "record_share_created", ENTITY, share.id,
                   new={"status": "waiting", "kind": kind.value, "ttl": minutes,
                        "reference_id": str(reference_id) if reference_id else None})
        await uow.commit()
    url = share_url(base_url, token)
    return {**describe(share, now), "url": url, "qr_svg": qr_svg(url), "code": code}


async def mine(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """The patient's shares, newest first, with their states."""
    assert actor.user_id is not None
    async with uow:
        now = uow.clock()
        return [describe(s, now)
                for s in await SharingRepository(uow.session).shares_of(actor.user_id)]


async def revoke(uow: UnitOfWork, actor: Actor, share_id: uuid.UUID) -> dict[str, Any]:
    """End a share at once: the recipient's next look says it was revoked."""
    async with uow:
        repo = SharingRepository(uow.session)
        share = await repo.share(share_id)
        if share is None or share.patient_id != actor.user_id:
            raise NotFound("no such share")
        now = uow.clock()
        before = share.state(now)
        if share.revoked_at is None:
            share.revoked_at = now
            share.touch(now)
            await repo.save(share)
            uow.record(actor, "record_share_revoked", ENTITY, share.id,
                       old={"status": before.value}, new={"status": "revoked"})
            await uow.commit()
        return describe(share, now)


async def open_link(uow: UnitOfWork, token: str, request_id: str | None) -> dict[str, Any]:
    """What the link alone tells a recipient: what kind of share, until when, tries left."""
    async with uow:
        share = await _by_token(uow, token)
        now = uow.clock()
        state = share.state(now)
        uow.record(Actor(None, PUBLIC, request_id), "record_share_opened", ENTITY, share.id,
                   new={"status": state.value})
        await uow.commit()
        _ensure_live(state)
        if state == ShareState.OPEN:
            raise Conflict("this share was already opened on another device")
        return {"kind": share.kind.value, "expires_at": share.expires_at.isoformat(),
                "attempts_left": SHARE_CODE_TRIES - share.attempts}


async def unlock(uow: UnitOfWork, codes: CodeHasher, token: str, code: str,
                 request_id: str | None) -> dict[str, Any]:
    """Check the spoken code; the right one opens a read-only session bound to this share.

    Raises:
        Unauthorized: a wrong code (``OTP_INVALID``, ``details.attempts_left``).
        Gone: revoked, expired, or locked (the third wrong code locks it).
    """
    viewer = Actor(None, PUBLIC, request_id)
    async with uow:
        repo = SharingRepository(uow.session)
        share = await _by_token(uow, token)
        now = uow.clock()
        _ensure_live(share.state(now))
        if share.state(now) == ShareState.OPEN:
            raise Conflict("this share was already opened on another device")
        share.attempts += 1
        share.touch(now)
        if not codes.matches(f"share:{share.id}", code.strip(), share.code_hash):
            left = SHARE_CODE_TRIES - share.attempts
            if left <= 0:
                share.locked_at = now
            await repo.save(share)
            uow.record(viewer, "record_share_code_wrong", ENTITY, share.id,
                       new={"status": share.state(now).value, "attempts": share.attempts})
            await uow.commit()
            _ensure_live(share.state(now))
            raise Unauthorized("wrong code", code="OTP_INVALID",
                               details={"attempts_left": left})
        session = new_token()
        share.session_hash, share.unlocked_at = token_hash(session), now
        await repo.save(share)
        uow.record(viewer, "record_share_unlocked", ENTITY, share.id,
                   old={"status": "waiting"}, new={"status": "open",
                                                   "attempts": share.attempts})
        await uow.commit()
    return {"session": session, "expires_at": share.expires_at.isoformat(),
            "kind": share.kind.value}


async def view(uow: UnitOfWork, session: str, request_id: str | None) -> dict[str, Any]:
    """The shared content, read-only, for the session the right code opened (audited)."""
    async with uow:
        share = await SharingRepository(uow.session).share_by_session(token_hash(session))
        if share is None:
            raise Unauthorized("no such share session", code="TOKEN_INVALID")
        now = uow.clock()
        state = share.state(now)
        viewer = Actor(None, PUBLIC, request_id)
        if state != ShareState.OPEN:
            uow.record(viewer, "record_share_view_refused", ENTITY, share.id,
                       new={"status": state.value})
            await uow.commit()
            _ensure_live(state)
        content = await _content(uow, share.patient_id, share.kind, share.reference_id)
        uow.record(viewer, "record_share_viewed", ENTITY, share.id,
                   new={"status": "open", "kind": share.kind.value})
        await uow.commit()
    log.info("share %s viewed (request %s)", share.id, request_id)
    return {"kind": share.kind.value, "expires_at": share.expires_at.isoformat(),
            "content": content}


def describe(share: Share, now: datetime) -> dict[str, Any]:
    """A share as its patient sees it."""
    return {"id": str(share.id), "kind": share.kind.value,
            "reference_id": str(share.reference_id) if share.reference_id else None,
            "status": share.state(now).value, "expires_at": share.expires_at.isoformat(),
            "created_at": share.created_at.isoformat() if share.created_at else None,
            "attempts": share.attempts}


async def _by_token(uow: UnitOfWork, token: str) -> Share:
    share = await SharingRepository(uow.session).share_by_token(token_hash(token))
    if share is None:
        raise NotFound("no such share")
    return share


def _ensure_live(state: ShareState) -> None:
    if state == ShareState.REVOKED:
        raise Gone("this share was revoked", code="SHARE_REVOKED")
    if state == ShareState.EXPIRED:
        raise Gone("this share has expired", code="SHARE_EXPIRED")
    if state == ShareState.LOCKED:
        raise Gone("too many wrong codes: this share is locked", code="SHARE_LOCKED")


async def _content(uow: UnitOfWork, patient_id: uuid.UUID, kind: ShareKind,
                   reference_id: uuid.UUID | None) -> dict[str, Any]:
    if kind == ShareKind.RECORD:
        return await whole_record(uow, patient_id)
    if reference_id is None:
        raise NotFound("no such record")
    if kind == ShareKind.PRESCRIPTION:
        return await one_prescription(uow, patient_id, reference_id)
    return await one_lab_report(uow, patient_id, reference_id)
