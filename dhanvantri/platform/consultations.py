"""Consultation use cases: open the record, write turns and notes as the call goes, close it into
the physician review queue (exactly once), recover consultations a dead process left open, and
show them.

Turn text and clinical notes are sealed with :class:`~.record_cipher.RecordCipher` before they
reach a repository; the audit trail gets states and counts, never words.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..http.errors import NotFound
from ..http.principal import Role
from .domain.appointments import AppointmentSource
from .domain.audit import SYSTEM, Actor
from .domain.consultations import Consultation, Turn, TurnRole
from .drafts import consultation_context, normalize_content
from .prescriptions import stage_draft, stated_profile
from .record.sources import notes_of
from .record_cipher import RecordCipher
from .safety import SafetyGate
from .uow import UnitOfWork

ENTITY = "consultation"
NEEDS_ASSESSMENT = "needs assessment"
UnitsOfWork = Callable[[], UnitOfWork]


async def open_record(uow: UnitOfWork, consultation_id: uuid.UUID, patient_id: uuid.UUID,
                      language: str, *, opened_by: uuid.UUID | None = None) -> bool:
    """Start the record of a signed-in patient's consultation; False if it already exists.

    ``opened_by`` is the family member who started it for ``patient_id`` (a dependent): the
    record is the patient's, the audit event's actor is who opened it.
    """
    async with uow:
        if await uow.consultations.get(consultation_id) is not None:
            return False
        patient = await uow.users.get(patient_id)
        if patient is None or patient.role != Role.PATIENT or patient.deleted_at is not None:
            raise NotFound("no such patient", details=[{"field": "patient_id",
                                                        "message": "unknown patient"}])
        now = uow.clock()
        record = Consultation(id=consultation_id, patient_id=patient_id, language=language,
                              started_at=now)
        record.touch(now)
        uow.consultations.add(record)
        uow.record(Actor(opened_by or patient_id, Role.PATIENT.value), "consultation_opened",
                   ENTITY, consultation_id, new=record.snapshot())
        await uow.commit()
        return True


async def add_turn(uow: UnitOfWork, cipher: RecordCipher, consultation_id: uuid.UUID,
                   role: TurnRole, text: str, tokens: str, said_at: datetime) -> int | None:
    """Append one turn (sealed); returns its sequence number, None once the record is closed."""
    async with uow:
        record = await uow.consultations.get(consultation_id, lock=True)
        if record is None or not record.active:
            return None
        seq = record.next_turn(uow.clock())
        uow.consultations.add(Turn(
            consultation_id=consultation_id, seq=seq, role=role, said_at=said_at,
            text_sealed=cipher.seal(text, consultation_id, "text", seq),
            tokens_sealed=cipher.seal(tokens, consultation_id, "tokens", seq)))
        await uow.commit()
        return seq


async def update_notes(uow: UnitOfWork, cipher: RecordCipher, consultation_id: uuid.UUID,
                       notes: dict[str, Any], escalation: dict[str, Any] | None = None) -> bool:
    """Replace the sealed clinical notes; an escalation also marks the record (audited)."""
    async with uow:
        record = await uow.consultations.get(consultation_id, lock=True)
        if record is None or not record.active:
            return False
        now = uow.clock()
        record.notes_sealed = cipher.seal_json(notes, consultation_id)
        record.touch(now)
        if escalation is not None:
            old = record.snapshot()
            record.escalate(str(escalation.get("reason") or "unknown")[:32],
                            bool(escalation.get("emergency")), now)
            uow.record(SYSTEM, "consultation_escalated", ENTITY, consultation_id, old=old,
                       new=record.snapshot())
        await uow.commit()
        return True


async def close_record(uows: UnitsOfWork, cipher: RecordCipher, gate: SafetyGate,
                       consultation_id: uuid.UUID, reason: str, *,
                       notes: dict[str, Any] | None = None, abandoned: bool = False,
                       actor: Actor = SYSTEM) -> uuid.UUID | None:
    """Close the consultation and queue its record for physician review, exactly once.

    The safety gate runs first, outside the transaction; then one transaction moves the record
    out of ``active`` (the guard: a second close finds it ended and does nothing) and stages the
    prescription, so neither lands without the other.

    Args:
        uows: makes fresh units of work.
        cipher: opens the turns and notes.
        gate: the safety gate the draft passes through.
        consultation_id: the record.
        reason: why it ended (``hangup``, ``server_shutdown``, ``process_ended`` ...).
        notes: the final clinical notes (default: the last ones stored).
        abandoned: the process holding it died (status ``abandoned``).
        actor: who ends it (the system by default).

    Returns:
        The prescription queued for review, or None when it had already ended (or is unknown).
    """
    async with uows() as uow:
        record = await uow.consultations.get(consultation_id)
        if record is None or not record.active:
            return None
        if notes is None:
            notes = cipher.open_json(record.notes_sealed, consultation_id)
        profile = stated_profile(await uow.users.patient(record.patient_id),
                                 record.patient_id, notes.get("intake") or {})
        held = await visit_held(uow, notes)
    draft = review_draft(notes, reason, held)
    safety = await gate.check(normalize_content(draft), profile, consultation_context(draft))
    async with uows() as uow:
        record = await uow.consultations.get(consultation_id, lock=True)
        if record is None or not record.active:
            return None
        draft["transcript"] = await _transcript(uow, cipher, consultation_id)
        old = record.snapshot()
        record.notes_sealed = cipher.seal_json(notes, consultation_id)
        record.close(reason[:32], uow.clock(), abandoned=abandoned)
        urgent = record.escalated or bool(notes.get("red_flags"))
        record.prescription_id = await stage_draft(uow, consultation_id, record.patient_id,
                                                   draft, safety, urgent, actor=actor)
        uow.record(actor, "consultation_closed", ENTITY, consultation_id, old=old,
                   new=record.snapshot())
        await uow.commit()
        return record.prescription_id


async def abandon_open(uows: UnitsOfWork, cipher: RecordCipher, gate: SafetyGate
                       ) -> list[uuid.UUID]:
    """Close as ``abandoned`` (and queue once) every consultation still active from a process
    that ended without closing it. Call at start-up, before this process opens any.

    Returns:
        The consultations closed now.
    """
    async with uows() as uow:
        stale = list(await uow.consultations.active_ids())
    closed = []
    for consultation_id in stale:
        if await close_record(uows, cipher, gate, consultation_id, "process_ended",
                              abandoned=True) is not None:
            closed.append(consultation_id)
    return closed


async def visit_held(uow: UnitOfWork, notes: dict[str, Any]) -> dict[str, Any]:
    """How a booked visit was held, from the notes the call wrote (``visit``) and its appointment:
    ``appointment_id``, ``mode`` (``video`` only when video flowed both ways) and ``first`` (a
    follow-up booked from a prescription continues care; a booking after an intake, or made
    directly, is the patient's first consultation with a physician). Empty for an intake."""
    visit = visit_of(notes)
    if visit is None:
        return {}
    held: dict[str, Any] = dict(visit)
    appointment = await uow.appointments.get(uuid.UUID(visit["appointment_id"]))
    if appointment is not None:
        held["first"] = appointment.source != AppointmentSource.FOLLOW_UP
    return held


def visit_of(notes: dict[str, Any]) -> dict[str, str] | None:
    """The appointment a consultation was the visit of, and how it was held (``video`` or
    ``audio``), from its notes; None for a consultation that was no visit."""
    visit = notes.get("visit")
    if not isinstance(visit, dict):
        return None
    try:
        appointment_id = uuid.UUID(str(visit.get("appointment_id")))
    except ValueError:
        return None
    return {"appointment_id": str(appointment_id),
            "mode": "video" if visit.get("mode") == "video" else "audio"}


def visit_in(cipher: RecordCipher, record: Consultation) -> dict[str, str] | None:
    """:func:`visit_of` the record's sealed notes (None too when they do not open: the
    consultation is still listed)."""
    return visit_of(notes_of(cipher, record))


def visit_title(visit: dict[str, str] | None) -> str:
    """How a consultation is named in lists: "Video visit", "Visit by voice" or "Consultation"."""
    if visit is None:
        return "Consultation"
    return "Video visit" if visit["mode"] == "video" else "Visit by voice"


def review_draft(notes: dict[str, Any], reason: str, held: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """What goes to the review queue: the clinical module's draft, or "needs assessment" when
    intake did not get that far, with the intake and what happened in the call (and, for a
    booked visit, how it was held: :func:`visit_held`)."""
    draft = dict(notes.get("draft") or {})
    if not draft:
        missing = (notes.get("intake") or {}).get("missing") or []
        draft = {"diagnosis": NEEDS_ASSESSMENT, "medications": [],
                 "ai_reasoning": "No draft: the consultation ended (" + reason + ") before "
                 "intake was complete" + (f"; missing: {', '.join(map(str, missing))}"
                                          if missing else "") + ". A physician must assess."}
    elif draft.get("narrative"):
        draft["ai_reasoning"] = "\n".join([*map(str, draft.get("reasoning") or []),
                                           str(draft["narrative"])])
    draft["consultation"] = {
        "end_reason": reason, "intake": notes.get("intake") or {},
        "red_flags": list(notes.get("red_flags") or []),
        "escalations": list(notes.get("escalations") or []),
        "physician_notes": list(notes.get("physician_notes") or []), **(held or {})}
    return draft


async def _transcript(uow: UnitOfWork, cipher: RecordCipher, consultation_id: uuid.UUID
                      ) -> list[dict[str, Any]]:
    # The review record carries the tokenised words: the words as said stay sealed in the
    # consultation record, where GET /consultations/{id} opens them for the physician.
    return [{"role": turn.role.value, "seq": turn.seq, "at": turn.said_at.isoformat(),
             "text": cipher.open(turn.tokens_sealed, consultation_id, "tokens", turn.seq)}
            for turn in await uow.consultations.turns(consultation_id)]


# ------------------------------------------------------------------ reading
async def list_consultations(uow: UnitOfWork, viewer: Actor, limit: int, offset: int,
                             cipher: RecordCipher | None = None) -> list[dict[str, Any]]:
    """A patient's own consultations, or (physicians, admins) the most recent ones; with
    ``cipher``, each says whether it was an appointment's visit (read from its sealed notes)."""
    patient_id = viewer.user_id if Role(viewer.role) == Role.PATIENT else None
    async with uow:
        found = await uow.consultations.list(patient_id=patient_id, limit=limit, offset=offset)
        return [summary(record, visit_in(cipher, record) if cipher is not None else None)
                for record in found]


async def view(uow: UnitOfWork, cipher: RecordCipher, viewer: Actor, consultation_id: uuid.UUID
               ) -> dict[str, Any]:
    """One consultation with its turns, intake and escalations (the view is audited).

    Patients see their own (without the AI draft, which is not theirs until signed); someone
    else's is reported as not found.
    """
    async with uow:
        record = await uow.consultations.get(consultation_id)
        patient = Role(viewer.role) == Role.PATIENT
        if record is None or (patient and record.patient_id != viewer.user_id):
            raise NotFound("no such consultation")
        notes = cipher.open_json(record.notes_sealed, consultation_id)
        body = summary(record, visit_of(notes))
        body["turns"] = [
            {"seq": turn.seq, "role": turn.role.value, "at": turn.said_at.isoformat(),
             "text": cipher.open(turn.text_sealed, consultation_id, "text", turn.seq)}
            for turn in await uow.consultations.turns(consultation_id)]
        body["intake"] = notes.get("intake") or {}
        body["red_flags"] = list(notes.get("red_flags") or [])
        body["escalations"] = list(notes.get("escalations") or [])
        body["physician_notes"] = list(notes.get("physician_notes") or [])
        if not patient:
            body["draft"] = notes.get("draft")
        uow.record(viewer, "consultation_viewed", ENTITY, consultation_id,
                   new={"status": record.status.value})
        await uow.commit()
        return body


def summary(record: Consultation, visit: dict[str, str] | None = None) -> dict[str, Any]:
    """A consultation's states and times (no patient words), and the appointment it was the
    visit of (``visit``: its id and how it was held; None for an intake)."""
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": str(record.id), "patient_id": str(record.patient_id),
            "status": record.status.value, "language": record.language,
            "started_at": iso(record.started_at), "ended_at": iso(record.ended_at),
            "end_reason": record.end_reason, "escalated": record.escalated,
            "escalation_reason": record.escalation_reason, "emergency": record.emergency,
            "turn_count": record.turns, "visit": visit,
            "prescription_id": str(record.prescription_id) if record.prescription_id else None}
