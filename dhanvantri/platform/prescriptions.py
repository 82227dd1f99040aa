"""Prescription use cases up to approval: draft intake, physician queue, view, edit, decide.

Signing, acknowledgement and release are in ``signing.py``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..http.errors import Conflict, NotFound, ValidationFailed
from ..http.principal import Role
from . import users
from .domain.accounts import PatientProfile
from .domain.audit import SYSTEM, Actor, canonical_json
from .domain.prescriptions import VISIBLE_TO_PATIENT, Prescription, Status
from .drafts import consultation_context, normalize_content, stated_consultation
from .safety import SafetyGate, normalize_safety
from .uow import UnitOfWork

ENTITY = "prescription"
MERCHANTS = (Role.PHARMACY, Role.LAB)  # see released prescriptions their orders name
CLINICAL = (Role.PHYSICIAN, Role.ADMIN)
# A patient reads a signed prescription only after accepting the consent text and signing for
# it (acknowledging): until then they see who signed it, not what it says, nor its PDF.
READABLE_BY_PATIENT = frozenset({Status.ACKNOWLEDGED, Status.RELEASED})


async def create_from_draft(uow: UnitOfWork, consultation_id: uuid.UUID, patient_id: uuid.UUID,
                            draft: dict[str, Any], safety: dict[str, Any], urgent: bool, *,
                            actor: Actor = SYSTEM) -> uuid.UUID:
    """Store a consultation's AI draft as a prescription awaiting physician review.

    Args:
        uow: a fresh unit of work (opened and committed here).
        consultation_id: the consultation the draft came from.
        patient_id: the patient's user id.
        draft: the clinical module's draft: the clinical fields (see ``drafts.normalize_content``)
            plus optional ``ai_reasoning`` (or ``reasoning``) text and ``transcript``, a list of
            ``{"role", "text"}`` turns.
        safety: the safety gate's result for the draft (``blocked`` and ``issues``).
        urgent: whether the physician queue should put it first.
        actor: who submits it (the system by default).

    Returns:
        The new prescription's id.
    """
    async with uow:
        rx_id = await stage_draft(uow, consultation_id, patient_id, draft, safety, urgent,
                                  actor=actor)
        await uow.commit()
        return rx_id


async def stage_draft(uow: UnitOfWork, consultation_id: uuid.UUID, patient_id: uuid.UUID,
                      draft: dict[str, Any], safety: dict[str, Any], urgent: bool, *,
                      actor: Actor = SYSTEM) -> uuid.UUID:
    """:func:`create_from_draft` inside a unit of work already open; the caller commits.

    A consultation closes and queues its record this way, in one transaction.
    """
    content = normalize_content(draft)
    draft = json.loads(canonical_json(draft))  # JSON-safe copy (dates and ids become text)
    transcript = draft.get("transcript") or []
    if not isinstance(transcript, list):
        raise ValidationFailed.field("transcript", "must be a list of turns")
    reasoning = draft.get("ai_reasoning") or draft.get("reasoning") or ""
    if isinstance(reasoning, list):  # the clinical module's draft gives its reasoning as lines
        reasoning = "\n".join(str(line) for line in reasoning)
    patient = await uow.users.get(patient_id)
    if patient is None or patient.role != Role.PATIENT or patient.deleted_at is not None:
        raise NotFound("no such patient", details=[{"field": "patient_id",
                                                    "message": "unknown patient"}])
    rx = Prescription(consultation_id=consultation_id, patient_id=patient_id,
                      urgent=bool(urgent), content=content, ai_draft=dict(draft),
                      ai_reasoning=str(reasoning), transcript=list(transcript),
                      safety=json.loads(canonical_json(normalize_safety(safety))))
    rx.touch(uow.clock())
    uow.prescriptions.add(rx)
    uow.record(actor, "prescription_drafted", ENTITY, rx.id, new=rx.snapshot())
    return rx.id


async def queue(uow: UnitOfWork, limit: int = 50) -> list[dict[str, Any]]:
    """Drafts awaiting review for the physician dashboard, urgent first."""
    async with uow:
        items = []
        for rx in await uow.prescriptions.queue(limit):
            patient = await uow.users.get(rx.patient_id)
            items.append({
                "id": str(rx.id), "consultation_id": str(rx.consultation_id),
                "patient": {"id": str(rx.patient_id),
                            "full_name": patient.full_name if patient else ""},
                "urgent": rx.urgent, "diagnosis": rx.content.get("diagnosis", ""),
                "safety_blocked": bool(rx.safety.get("blocked")),
                "created_at": _iso(rx.created_at)})
        return items


async def view(uow: UnitOfWork, viewer: Actor, prescription_id: uuid.UUID) -> dict[str, Any]:
    """A prescription as the viewer's role may see it.

    Physicians and admins see everything (transcript, AI reasoning, safety result). Patients see
    their own: who signed it once a physician has, its clinical content only once they have
    acknowledged it (consent and their drawn signature). Pharmacy and lab see released
    prescriptions that their own orders or bookings name. Others' prescriptions are reported
    as not found. Every view is audited (access to health records).
    """
    async with uow:
        rx = await _visible(uow, viewer, prescription_id)
        body = await describe(uow, rx, Role(viewer.role))
        uow.record(viewer, "prescription_viewed", ENTITY, rx.id,
                   new={"status": rx.status.value})
        await uow.commit()
        return body


async def list_prescriptions(uow: UnitOfWork, viewer: Actor, status: Status | None,
                             limit: int, offset: int) -> list[dict[str, Any]]:
    """Prescriptions the viewer may see, newest first."""
    role = Role(viewer.role)
    patient_id = viewer.user_id if role == Role.PATIENT else None
    statuses = [status] if status else None
    if role in MERCHANTS:
        if status not in (None, Status.RELEASED):
            return []
        statuses = [Status.RELEASED]
    async with uow:
        if role in MERCHANTS:
            assert viewer.user_id is not None
            found = await uow.prescriptions.of_merchant_user(
                viewer.user_id, statuses=statuses, limit=limit, offset=offset)
        else:
            found = await uow.prescriptions.list(patient_id=patient_id, statuses=statuses,
                                                 limit=limit, offset=offset)
        return [await describe(uow, rx, role, brief=True) for rx in found]


async def _visible(uow: UnitOfWork, viewer: Actor, prescription_id: uuid.UUID, *,
                   lock: bool = False) -> Prescription:
    rx = await uow.prescriptions.get(prescription_id, lock=lock)
    role = Role(viewer.role)
    hidden = (rx is None
              or (role == Role.PATIENT and rx.patient_id != viewer.user_id)
              or (role in MERCHANTS and not await _named_by_merchant(uow, viewer, rx)))
    if hidden or rx is None:
        raise NotFound("no such prescription")
    return rx


async def _named_by_merchant(uow: UnitOfWork, viewer: Actor, rx: Prescription) -> bool:
    # A pharmacy or lab sees a released prescription only when one of its own orders or
    # bookings names it: the patient chose to share it with that merchant, not the platform's.
    if rx.status != Status.RELEASED or viewer.user_id is None:
        return False
    return bool(await uow.prescriptions.of_merchant_user(viewer.user_id,
                                                         prescription_id=rx.id, limit=1))


async def describe(uow: UnitOfWork, rx: Prescription, role: Role, *, brief: bool = False
                   ) -> dict[str, Any]:
    """The JSON view of a prescription for ``role``."""
    body: dict[str, Any] = {
        "id": str(rx.id), "consultation_id": str(rx.consultation_id),
        "patient_id": str(rx.patient_id), "status": rx.status.value, "urgent": rx.urgent,
        "version": rx.version, "created_at": _iso(rx.created_at),
        "updated_at": _iso(rx.updated_at), "approved_at": _iso(rx.approved_at),
        "signed_at": _iso(rx.signed_at), "acknowledged_at": _iso(rx.acknowledged_at),
        "released_at": _iso(rx.released_at), "rejection_reason": rx.rejection_reason,
    }
    clinical = role in CLINICAL
    if clinical or rx.status in VISIBLE_TO_PATIENT:
        body["physician"] = await _physician(uow, rx.physician_id)
    if content_visible(rx, role):
        body["content"] = rx.content
    if clinical:
        body["safety"] = rx.safety
        body["consultation"] = held_consultation(rx)
    if clinical and not brief:
        body["ai_draft"] = rx.ai_draft
        body["ai_reasoning"] = rx.ai_reasoning
        body["transcript"] = rx.transcript
        patient = await uow.users.patient(rx.patient_id)
        if patient:
            body["patient"] = {"allergies": patient.allergies, "conditions": patient.conditions,
                               "medicines": patient.medicines, "sex": patient.sex,
                               "date_of_birth": patient.date_of_birth}
        body["stated"] = stated_only(patient, stated_intake(rx))
    return body


def held_consultation(rx: Prescription) -> dict[str, Any]:
    """How the consultation was held, for the review screen: what the physician stated
    (``stated`` true) or else what the record tells (``first``/``mode`` None when unknown)."""
    stated = (rx.content or {}).get("consultation")
    if stated:
        return {**stated, "stated": True}
    known = consultation_context(rx.ai_draft)
    return {"first": known.first, "mode": known.mode, "stated": False}


def content_visible(rx: Prescription, role: Role) -> bool:
    """Whether ``role`` may read the prescription's clinical content (and its PDF).

    Physicians and admins always; a patient once they have acknowledged it; a pharmacy or lab
    once it is released (``_visible`` has checked that their own order names it).
    """
    if role in CLINICAL:
        return True
    if role == Role.PATIENT:
        return rx.status in READABLE_BY_PATIENT
    return rx.status == Status.RELEASED


# What the intake calls each profile list (the profile says medicines, the intake medications).
STATED_KEYS = {"allergies": "allergies", "medicines": "medications", "conditions": "conditions"}


def stated_intake(rx: Prescription) -> dict[str, Any]:
    """The intake the patient gave in the consultation (a draft made elsewhere may carry it at
    its top level)."""
    draft = rx.ai_draft or {}
    intake = (draft.get("consultation") or {}).get("intake") or draft.get("intake")
    return intake if isinstance(intake, dict) else {}


def _facts(values: Any) -> list[str]:
    # Case-insensitive de-duplication, keeping the first spelling said.
    seen: dict[str, str] = {}
    for value in values if isinstance(values, list) else []:
        if isinstance(value, str) and value.strip():
            seen.setdefault(value.strip().casefold(), value.strip())
    return list(seen.values())


def stated_only(profile: PatientProfile | None, intake: dict[str, Any]) -> dict[str, list[str]]:
    """Facts stated in the consultation that the stored profile lacks, per profile list."""
    result = {}
    for name, key in STATED_KEYS.items():
        known = {v.casefold() for v in (getattr(profile, name) if profile else [])}
        result[name] = [v for v in _facts(intake.get(key)) if v.casefold() not in known]
    return result


async def confirm_stated(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID,
                         facts: dict[str, list[str]]) -> dict[str, Any]:
    """The reviewing physician confirms facts the patient stated in the consultation into the
    patient's profile; facts already there are skipped (so a repeat changes nothing).

    Each fact must be one the record's intake states (compared case-insensitively); it is stored
    as the patient said it. The change is audited on the patient like a profile update.

    Raises:
        ValidationFailed: nothing named, or a fact the consultation did not state.
        Conflict: the prescription is no longer pending review.
    """
    if not any(facts.get(name) for name in STATED_KEYS):
        raise ValidationFailed.field("allergies", "name at least one stated fact to confirm")
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        if rx.status != Status.PENDING_REVIEW:
            raise Conflict(f"cannot confirm facts of a prescription that is {rx.status.value}",
                           code="INVALID_STATE", details={"status": rx.status.value})
        intake = stated_intake(rx)
        spoken: dict[str, list[str]] = {}
        for name, key in STATED_KEYS.items():
            said = {v.casefold(): v for v in _facts(intake.get(key))}
            spoken[name] = []
            for index, value in enumerate(facts.get(name) or []):
                if value.strip().casefold() not in said:
                    raise ValidationFailed.field(f"{name}.{index}",
                                                 "not stated in this consultation")
                spoken[name].append(said[value.strip().casefold()])
        if await users.add_profile_facts(uow, actor, rx.patient_id, spoken,
                                         source={"prescription_id": str(rx.id)}):
            await uow.commit()
        return await describe(uow, rx, Role(actor.role))


def stated_profile(profile: PatientProfile | None, patient_id: uuid.UUID,
                   intake: dict[str, Any]) -> PatientProfile:
    """The profile the safety gate checks: stored facts plus those the patient stated in the
    consultation's ``intake`` (allergies, medications, conditions, sex)."""

    def merged(stored: list[str], stated_key: str) -> list[str]:
        stated = [str(x) for x in intake.get(stated_key) or []]
        return list(dict.fromkeys([*stored, *stated]))

    return PatientProfile(
        id=patient_id, date_of_birth=profile.date_of_birth if profile else None,
        sex=(profile.sex if profile and profile.sex else intake.get("sex")),
        allergies=merged(profile.allergies if profile else [], "allergies"),
        conditions=merged(profile.conditions if profile else [], "conditions"),
        medicines=merged(profile.medicines if profile else [], "medications"))


async def _physician(uow: UnitOfWork, physician_id: uuid.UUID | None) -> dict[str, Any] | None:
    if physician_id is None:
        return None
    user = await uow.users.get(physician_id)
    profile = await uow.users.physician(physician_id)
    return {"id": str(physician_id), "full_name": user.full_name if user else "",
            "registration_number": profile.registration_number if profile else "",
            "council": profile.council if profile else ""}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def edit(uow: UnitOfWork, gate: SafetyGate, actor: Actor, prescription_id: uuid.UUID,
               draft: dict[str, Any]) -> dict[str, Any]:
    """A physician replaces the content; the safety gate runs again on the new content.

    ``draft["consultation"]`` (``{"first", "mode"}``) states how the consultation was held; it
    is kept in the content (so it is signed and printed, as the Telemedicine Practice Guidelines
    2020 ask) and the gate's teleconsultation lists follow it. Left out, the earlier statement
    stands.
    """
    content = normalize_content(draft)
    said = draft.get("consultation")
    stated = stated_consultation(said) if said is not None else None
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        old = rx.snapshot()
        before = (rx.content or {}).get("consultation")
        held = stated or before
        if held:
            content["consultation"] = held
        # The gate checks what the patient said in the call too (a penicillin allergy stated
        # there blocks amoxicillin added on review), as it did when the record was queued.
        patient = stated_profile(await uow.users.patient(rx.patient_id), rx.patient_id,
                                 stated_intake(rx))
        safety = normalize_safety(await gate.check(content, patient,
                                                   consultation_context(rx.ai_draft, held)))
        rx.edit(content, safety, uow.clock())
        uow.record(actor, "prescription_edited", ENTITY, rx.id, old=old, new=rx.snapshot())
        if held != before:
            uow.record(actor, "prescription_consultation_stated", ENTITY, rx.id,
                       old={"consultation": before}, new={"consultation": held})
        await uow.commit()
        return await describe(uow, rx, Role(actor.role))


async def approve(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID) -> dict[str, Any]:
    """The reviewing physician approves; signing comes next."""
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        old = rx.snapshot()
        assert actor.user_id is not None
        rx.approve(actor.user_id, uow.clock())
        uow.record(actor, "prescription_approved", ENTITY, rx.id, old=old, new=rx.snapshot())
        await uow.commit()
        return await describe(uow, rx, Role(actor.role))


async def reject(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID, reason: str
                 ) -> dict[str, Any]:
    """The reviewing physician rejects the draft with a reason."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.field("reason", "required")
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        old = rx.snapshot()
        assert actor.user_id is not None
        rx.reject(actor.user_id, reason, uow.clock())
        uow.record(actor, "prescription_rejected", ENTITY, rx.id, old=old, new=rx.snapshot())
        await uow.commit()
        return await describe(uow, rx, Role(actor.role))
