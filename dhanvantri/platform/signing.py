"""Prescription use cases after approval: e-sign, verify, PDF, patient acknowledgement, release."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import uuid
from typing import Any

import segno

from ..http.errors import ApiError, Conflict, Forbidden, NotFound, ValidationFailed
from ..http.principal import Role
from . import pdf
from .consent import CONSENT_SHA256, CONSENT_TEXT
from .domain.audit import Actor, canonical_json
from .domain.prescriptions import (
    VISIBLE_TO_PATIENT,
    Acknowledgement,
    Prescription,
    PrescriptionDocument,
)
from .esign import ESignProvider, SignRequest
from .prescriptions import ENTITY, _visible, content_visible, describe
from .uow import UnitOfWork

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 256 * 1024


def document_digest(rx: Prescription, pdf_sha256: str, signer: dict[str, Any]) -> str:
    """SHA-256 (hex) of what is signed: the canonical prescription, its PDF's hash, the signer."""
    payload = {"prescription": rx.canonical(), "pdf_sha256": pdf_sha256, "signer": signer}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


async def _signer_facts(uow: UnitOfWork, physician_id: uuid.UUID) -> tuple[dict[str, Any], str]:
    user = await uow.users.get(physician_id)
    profile = await uow.users.physician(physician_id)
    if user is None or profile is None:
        raise Forbidden("signer has no physician registration", code="NOT_SIGNER")
    facts = {"id": str(user.id), "full_name": user.full_name,
             "registration_number": profile.registration_number, "council": profile.council}
    return facts, user.phone or user.email or str(user.id)


async def start_signing(uow: UnitOfWork, signer: ESignProvider, actor: Actor,
                        prescription_id: uuid.UUID, verify_url: str) -> dict[str, Any]:
    """Render the PDF for an approved prescription and ask the e-sign provider for an OTP."""
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        assert actor.user_id is not None
        rx.ensure_signer(actor.user_id)
        facts, contact = await _signer_facts(uow, actor.user_id)
        document = await _render(uow, rx, facts, verify_url)
        request = SignRequest(rx.id, document_digest(rx, document.sha256, facts), actor.user_id,
                              facts["full_name"], contact)
        session = await signer.initiate(uow, request)
        uow.record(actor, "esign_started", ENTITY, rx.id,
                   new={"provider": signer.name, "pdf_sha256": document.sha256})
        await uow.commit()
        return {"session_id": session.session_id, "expires_at": session.expires_at.isoformat(),
                "provider": signer.name}


async def _render(uow: UnitOfWork, rx: Prescription, signer: dict[str, Any], verify_url: str
                  ) -> PrescriptionDocument:
    patient = await uow.users.get(rx.patient_id)
    profile = await uow.users.patient(rx.patient_id)
    doctor = await uow.users.physician(uuid.UUID(signer["id"]))
    assert rx.approved_at is not None
    # Rendering and the QR code take tens of milliseconds of CPU: keep them off the event loop.
    data = await asyncio.to_thread(pdf.render, pdf.PdfFacts(
        prescription_id=str(rx.id), issued_at=rx.approved_at,
        physician_name=signer["full_name"], qualification=doctor.qualification if doctor else "",
        registration_number=signer["registration_number"], council=signer["council"],
        patient_name=patient.full_name if patient else "",
        patient_abha=profile.abha_masked if profile else None,
        patient_sex=profile.sex if profile else None,
        patient_dob=profile.date_of_birth if profile else None,
        content=rx.content, verify_url=verify_url))
    digest = hashlib.sha256(data).hexdigest()
    document = await uow.prescriptions.document(rx.id)
    if document is None:
        document = PrescriptionDocument(prescription_id=rx.id, sha256=digest, content=data)
        uow.prescriptions.add(document)
    document.sha256, document.content = digest, data
    document.touch(uow.clock())
    return document


async def complete_signing(uow: UnitOfWork, signer: ESignProvider, actor: Actor,
                           prescription_id: uuid.UUID, session_id: str, otp: str
                           ) -> dict[str, Any]:
    """Check the physician's OTP with the provider and attach the signature."""
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        assert actor.user_id is not None
        rx.ensure_signer(actor.user_id)
        document = await uow.prescriptions.document(rx.id)
        if document is None:
            raise Conflict("start signing first", code="ESIGN_NOT_STARTED")
        facts, contact = await _signer_facts(uow, actor.user_id)
        request = SignRequest(rx.id, document_digest(rx, document.sha256, facts), actor.user_id,
                              facts["full_name"], contact)
        try:
            signed = await signer.complete(uow, session_id, otp, request)
        except ApiError as exc:
            uow.record(actor, "esign_failed", ENTITY, rx.id, new={"reason": exc.code})
            await uow.commit()  # keep the attempt count
            raise
        old = rx.snapshot()
        signature = {**signed.as_json(), "pdf_sha256": document.sha256, "signer": facts}
        rx.mark_signed(actor.user_id, signature, uow.clock())
        uow.record(actor, "prescription_signed", ENTITY, rx.id, old=old,
                   new={**rx.snapshot(), "document_sha256": signed.document_sha256,
                        "key_id": signed.key_id})
        await uow.commit()
        return await describe(uow, rx, Role(actor.role))


async def verify(uow: UnitOfWork, signer: ESignProvider, prescription_id: uuid.UUID
                 ) -> dict[str, Any]:
    """Check a prescription's signature, content and PDF; public, so it shows no patient data."""
    async with uow:
        rx = await uow.prescriptions.get(prescription_id)
        if rx is None:
            raise NotFound("no such prescription")
        result: dict[str, Any] = {"prescription_id": str(rx.id), "status": rx.status.value,
                                  "valid": False}
        signature = rx.signature
        if not signature:
            return {**result, "reason": "not signed"}
        document = await uow.prescriptions.document(rx.id)
        pdf_hash = hashlib.sha256(document.content).hexdigest() if document else None
        facts = signature.get("signer") or {}
        digest = document_digest(rx, signature.get("pdf_sha256", ""), facts)
        checks = {"pdf": pdf_hash is not None and pdf_hash == signature.get("pdf_sha256"),
                  "content": digest == signature.get("document_sha256"),
                  "signature": signer.verify(digest, signature)}
        valid = all(checks.values())
        result.update(valid=valid, checks=checks, signed_at=signature.get("signed_at"),
                      provider=signature.get("provider"), key_id=signature.get("key_id"),
                      physician={k: facts.get(k) for k in
                                 ("full_name", "registration_number", "council")})
        if not valid:
            result["reason"] = "; ".join(f"{name} check failed"
                                         for name, ok in checks.items() if not ok)
        return result


async def document(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID) -> bytes:
    """The signed PDF, for those who may see the prescription's content."""
    async with uow:
        rx = await _visible(uow, actor, prescription_id)
        if rx.status not in VISIBLE_TO_PATIENT:
            raise NotFound("no signed document yet")
        if not content_visible(rx, Role(actor.role)):
            raise Conflict("acknowledge the prescription to read it", code="INVALID_STATE",
                           details={"status": rx.status.value})
        doc = await uow.prescriptions.document(rx.id)
        if doc is None:
            raise NotFound("no signed document yet")
        uow.record(actor, "prescription_downloaded", ENTITY, rx.id)
        await uow.commit()
        return doc.content


async def verification_qr(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID,
                          verify_url: str) -> bytes:
    """The QR code the PDF carries (its verification link) as SVG, for a page to show.

    It holds no patient data, but only those who may see the prescription get it, and only
    once it is signed (before then the link has nothing to verify).
    """
    async with uow:
        rx = await _visible(uow, actor, prescription_id)
        if rx.status not in VISIBLE_TO_PATIENT:
            raise NotFound("not signed yet")
    # The same code as the PDF's (segno, error correction M), drawn as vectors.
    out = io.BytesIO()
    segno.make(verify_url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False,
                                           title="Verification code for this prescription")
    return out.getvalue()


def decode_signature_png(data_url: str) -> bytes:
    """The PNG bytes of a ``data:image/png;base64,...`` drawing; raises on anything else."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise ValidationFailed.field("signature_png", "must be a data:image/png;base64 URL")
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed.field("signature_png", "invalid base64") from exc
    if not raw.startswith(PNG_MAGIC) or len(raw) < 67:
        raise ValidationFailed.field("signature_png", "not a PNG image")
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ValidationFailed.field("signature_png", "image too large")
    return raw


async def acknowledge(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID, *,
                      consent: bool, consent_sha256: str, signature_png: str, ip_address: str,
                      device_info: str) -> dict[str, Any]:
    """The patient accepts the consent text and signs; everything is hashed and stored."""
    if consent is not True:
        raise ValidationFailed.field("consent", "must be true")
    if consent_sha256 != CONSENT_SHA256:
        raise ValidationFailed.field("consent_sha256", "does not match the current consent text")
    png = decode_signature_png(signature_png)
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        assert actor.user_id is not None
        now = uow.clock()
        old = rx.snapshot()
        rx.acknowledge(actor.user_id, now)
        signature_sha = hashlib.sha256(png).hexdigest()
        record = {"prescription_id": str(rx.id), "patient_id": str(actor.user_id),
                  "consent_sha256": CONSENT_SHA256, "signature_sha256": signature_sha,
                  "ip_address": ip_address, "device_info": device_info,
                  "prescription_signature": (rx.signature or {}).get("signature"),
                  "time": now.isoformat()}
        ack = Acknowledgement(prescription_id=rx.id, patient_id=actor.user_id,
                              consent_text=CONSENT_TEXT, consent_sha256=CONSENT_SHA256,
                              signature_png=png, signature_sha256=signature_sha,
                              ip_address=ip_address[:64], device_info=device_info[:500],
                              record_sha256=hashlib.sha256(
                                  canonical_json(record).encode()).hexdigest())
        ack.touch(now)
        uow.prescriptions.add(ack)
        uow.record(actor, "prescription_acknowledged", ENTITY, rx.id, old=old,
                   new={**rx.snapshot(), "record_sha256": ack.record_sha256,
                        "signature_sha256": signature_sha})
        await uow.commit()
        return {**await describe(uow, rx, Role(actor.role)),
                "acknowledgement": {"record_sha256": ack.record_sha256,
                                    "signature_sha256": signature_sha}}


async def release(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID) -> dict[str, Any]:
    """Release an acknowledged prescription (the patient, its physician, or an admin)."""
    async with uow:
        rx = await _visible(uow, actor, prescription_id, lock=True)
        if actor.role == Role.PHYSICIAN and rx.physician_id != actor.user_id:
            raise Forbidden("only the signing physician can release", code="NOT_SIGNER")
        old = rx.snapshot()
        rx.release(uow.clock())
        uow.record(actor, "prescription_released", ENTITY, rx.id, old=old, new=rx.snapshot())
        await uow.commit()
        return await describe(uow, rx, Role(actor.role))
