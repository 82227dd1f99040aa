"""The emergency card: what the patient chooses to show a bystander who scans their QR code.

The card stores which fields to show, plus the blood group and emergency contacts (which the
profile does not hold); allergies, conditions and medicines are read from the profile when the
card is opened, so it never goes stale. Making a new card revokes the old one: one live link per
patient. Every view is audited, with no viewer identity (there is none) beyond the request id.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import segno

from ...http.errors import NotFound
from ..domain.audit import Actor
from ..uow import UnitOfWork
from .domain import CardField, EmergencyCard, new_token, token_hash
from .errors import Gone
from .repository import SharingRepository

log = logging.getLogger(__name__)
ENTITY = "emergency_card"
PAGE = "/emergency"  # serves web_client/emergency_card.html
PUBLIC = "public"  # the audit role of someone who opened a link without signing in


def card_url(base_url: str, token: str) -> str:
    """The card's public link. The token rides in the fragment, which browsers never send:
    it stays out of server logs, proxies and Referer headers; the page posts it to the API."""
    return f"{base_url.rstrip('/')}{PAGE}#{token}"


def qr_svg(url: str) -> str:
    """The link as a standalone SVG QR code (medium error correction: survives a scuffed
    print; the SVG namespace is kept, so the document also works as an image)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, dark="#111",
                                     xmldecl=False)
    return out.getvalue().decode()


async def make(uow: UnitOfWork, actor: Actor, base_url: str, fields: list[CardField],
               blood_group: str | None, contacts: list[dict[str, str]]) -> dict[str, Any]:
    """A new card (the previous one is revoked); its link and QR code are shown once."""
    assert actor.user_id is not None
    token = new_token()
    async with uow:
        repo = SharingRepository(uow.session)
        now = uow.clock()
        old = await repo.live_card(actor.user_id)
        if old is not None:
            old.revoked_at = now
            old.touch(now)
            await repo.save(old)
            uow.record(actor, "emergency_card_revoked", ENTITY, old.id,
                       old={"status": "live"}, new={"status": "revoked", "reason": "replaced"})
        card = EmergencyCard(patient_id=actor.user_id, token_hash=token_hash(token),
                             fields=[f.value for f in fields], blood_group=blood_group,
                             contacts=contacts)
        card.touch(now)
        await repo.add(card)
        uow.record(actor, "emergency_card_created", ENTITY, card.id,
                   new={"status": "live", "lines": len(fields), "kind": ",".join(card.fields)})
        await uow.commit()
    url = card_url(base_url, token)
    return {**describe(card), "url": url, "qr_svg": qr_svg(url)}


async def current(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """The caller's live card (without its link, which only its making shows)."""
    assert actor.user_id is not None
    async with uow:
        card = await SharingRepository(uow.session).live_card(actor.user_id)
        if card is None:
            raise NotFound("no emergency card")
        return describe(card)


async def revoke(uow: UnitOfWork, actor: Actor) -> None:
    """End the caller's live card: its link (every printed copy) then says it was revoked."""
    assert actor.user_id is not None
    async with uow:
        repo = SharingRepository(uow.session)
        card = await repo.live_card(actor.user_id)
        if card is None:
            raise NotFound("no emergency card")
        card.revoked_at = uow.clock()
        card.touch(card.revoked_at)
        await repo.save(card)
        uow.record(actor, "emergency_card_revoked", ENTITY, card.id, old={"status": "live"},
                   new={"status": "revoked", "reason": "patient"})
        await uow.commit()


async def open_card(uow: UnitOfWork, token: str, request_id: str | None) -> dict[str, Any]:
    """What a bystander sees: only the fields the patient chose. Every view is audited.

    Raises:
        NotFound: no card has this token.
        Gone: the card was revoked (``CARD_REVOKED``); the view is audited too.
    """
    viewer = Actor(None, PUBLIC, request_id)
    async with uow:
        card = await SharingRepository(uow.session).card_by_token(token_hash(token))
        if card is None:
            raise NotFound("no such emergency card")
        if not card.live:
            uow.record(viewer, "emergency_card_view_refused", ENTITY, card.id,
                       new={"status": "revoked"})
            await uow.commit()
            raise Gone("this card was revoked", code="CARD_REVOKED")
        shown = await _shown(uow, card)
        uow.record(viewer, "emergency_card_viewed", ENTITY, card.id,
                   new={"status": "live", "lines": len(card.fields)})
        await uow.commit()
    log.info("emergency card %s viewed (request %s)", card.id, request_id)
    return shown


async def _shown(uow: UnitOfWork, card: EmergencyCard) -> dict[str, Any]:
    chosen = set(card.fields)
    body: dict[str, Any] = {}
    if CardField.NAME in chosen:
        user = await uow.users.get(card.patient_id)
        body["name"] = user.full_name if user else ""
    if CardField.BLOOD_GROUP in chosen:
        body["blood_group"] = card.blood_group
    profile = await uow.users.patient(card.patient_id)
    for name in (CardField.ALLERGIES, CardField.CONDITIONS, CardField.MEDICINES):
        if name in chosen:
            body[name.value] = list(getattr(profile, name.value)) if profile else []
    if CardField.CONTACTS in chosen:
        body["contacts"] = list(card.contacts)
    return body


def describe(card: EmergencyCard) -> dict[str, Any]:
    """The card as its patient sees it in the care area."""
    return {"id": str(card.id), "fields": list(card.fields), "blood_group": card.blood_group,
            "contacts": list(card.contacts),
            "created_at": card.created_at.isoformat() if card.created_at else None,
            "revoked_at": card.revoked_at.isoformat() if card.revoked_at else None}

