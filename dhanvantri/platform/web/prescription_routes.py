"""Physician review, e-sign, verification, patient acknowledgement and release.

Each review decision (edit, approve, reject, sign) is announced on ``services.review`` once
stored, so every physician's dashboard refreshes its review queue without polling.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, client_ip, ok, parse_body, parse_query, path_uuid
from ...http.permissions import Perm
from .. import prescriptions, signing
from ..consent import CONSENT_SHA256, CONSENT_TEXT, CONSENT_VERSION
from .common import actor_for, services
from .schemas import (
    AcknowledgeIn,
    ConsentText,
    Prescription,
    PrescriptionEditIn,
    PrescriptionList,
    PrescriptionListQuery,
    PrescriptionQueue,
    QueueQuery,
    RejectIn,
    SignCompleteIn,
    SigningSession,
    Verification,
)


async def reviewed(request: web.Request, rx: dict[str, Any]) -> web.Response:
    """Announce a review decision (ids and states only), then answer with the prescription."""
    await services(request).review.changed(rx["id"], rx["status"], rx["urgent"])
    return ok(rx)


async def queue(request: web.Request) -> web.Response:
    query = parse_query(request, QueueQuery)
    return ok({"items": await prescriptions.queue(services(request).uow(), query.limit)})


async def list_all(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, PrescriptionListQuery)
    items = await prescriptions.list_prescriptions(
        services(request).uow(), actor_for(request, principal), query.status, query.limit,
        query.offset)
    return ok({"items": items})


async def get_one(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await prescriptions.view(services(request).uow(), actor_for(request, principal),
                                       path_uuid(request)))


async def edit(request: web.Request) -> web.Response:
    principal = caller(request)
    rx_id = path_uuid(request)
    body = await parse_body(request, PrescriptionEditIn)
    svc = services(request)
    return await reviewed(request, await prescriptions.edit(
        svc.uow(), svc.safety, actor_for(request, principal), rx_id, body.model_dump()))


async def approve(request: web.Request) -> web.Response:
    principal = caller(request)
    return await reviewed(request, await prescriptions.approve(
        services(request).uow(), actor_for(request, principal), path_uuid(request)))


async def reject(request: web.Request) -> web.Response:
    principal = caller(request)
    rx_id = path_uuid(request)
    body = await parse_body(request, RejectIn)
    return await reviewed(request, await prescriptions.reject(
        services(request).uow(), actor_for(request, principal), rx_id, body.reason))


async def sign_start(request: web.Request) -> web.Response:
    principal = caller(request)
    rx_id = path_uuid(request)
    svc = services(request)
    result = await signing.start_signing(svc.uow(), svc.signer, actor_for(request, principal),
                                         rx_id, svc.verify_url(rx_id))
    return ok(result, status=202)


async def sign_complete(request: web.Request) -> web.Response:
    principal = caller(request)
    rx_id = path_uuid(request)
    body = await parse_body(request, SignCompleteIn)
    svc = services(request)
    return await reviewed(request, await signing.complete_signing(
        svc.uow(), svc.signer, actor_for(request, principal), rx_id, str(body.session_id),
        body.otp))


async def verify(request: web.Request) -> web.Response:
    svc = services(request)
    return ok(await signing.verify(svc.uow(), svc.signer, path_uuid(request)))


async def pdf(request: web.Request) -> web.Response:
    principal = caller(request)
    data = await signing.document(services(request).uow(), actor_for(request, principal),
                                  path_uuid(request))
    return web.Response(body=data, content_type="application/pdf")


async def qr(request: web.Request) -> web.Response:
    principal = caller(request)
    rx_id = path_uuid(request)
    svc = services(request)
    data = await signing.verification_qr(svc.uow(), actor_for(request, principal), rx_id,
                                         svc.verify_url(rx_id))
    return web.Response(body=data, content_type="image/svg+xml")


async def consent_text(request: web.Request) -> web.Response:
    return ok({"version": CONSENT_VERSION, "text": CONSENT_TEXT, "sha256": CONSENT_SHA256})


async def acknowledge(request: web.Request) -> web.Response:
    principal = caller(request)
    rx_id = path_uuid(request)
    body = await parse_body(request, AcknowledgeIn)
    device = body.device_info or request.headers.get("User-Agent") or ""
    return ok(await signing.acknowledge(
        services(request).uow(), actor_for(request, principal), rx_id, consent=body.consent,
        consent_sha256=body.consent_sha256, signature_png=body.signature_png,
        ip_address=client_ip(request), device_info=device))


async def release(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await signing.release(services(request).uow(), actor_for(request, principal),
                                    path_uuid(request)))


RX = "prescriptions"
RX_BODY = {200: "prescription"}
ENDPOINTS = [
    Endpoint("GET", "/prescriptions/queue", queue, "Drafts awaiting review, urgent first", RX,
             Perm.RX_QUEUE, query=QueueQuery, responses={200: "queue"},
             response=PrescriptionQueue),
    Endpoint("GET", "/prescriptions/consent", consent_text,
             "The consent text a patient accepts (and its SHA-256)", RX, None,
             responses={200: "consent text"}, response=ConsentText),
    Endpoint("GET", "/prescriptions", list_all, "Prescriptions the caller may see", RX,
             Perm.RX_READ, query=PrescriptionListQuery, responses={200: "prescriptions"},
             response=PrescriptionList),
    Endpoint("GET", "/prescriptions/{id}", get_one,
             "One prescription (physicians: with transcript and AI reasoning)", RX,
             Perm.RX_READ, responses=RX_BODY, response=Prescription),
    Endpoint("PUT", "/prescriptions/{id}", edit,
             "Edit a draft under review; the safety gate runs again", RX, Perm.RX_REVIEW,
             PrescriptionEditIn, responses=RX_BODY, response=Prescription),
    Endpoint("POST", "/prescriptions/{id}/approve", approve, "Approve a draft", RX,
             Perm.RX_REVIEW, responses=RX_BODY, response=Prescription),
    Endpoint("POST", "/prescriptions/{id}/reject", reject, "Reject a draft with a reason", RX,
             Perm.RX_REVIEW, RejectIn, responses=RX_BODY, response=Prescription),
    Endpoint("POST", "/prescriptions/{id}/sign", sign_start,
             "Render the PDF and send the e-sign OTP to the approving physician", RX,
             Perm.RX_SIGN, responses={202: "signing session"}, response=SigningSession),
    Endpoint("POST", "/prescriptions/{id}/sign/complete", sign_complete,
             "Complete e-sign with the OTP", RX, Perm.RX_SIGN, SignCompleteIn,
             responses=RX_BODY, response=Prescription),
    Endpoint("GET", "/prescriptions/{id}/verify", verify,
             "Verify the signature, content and PDF (public; no patient data)", RX, None,
             responses={200: "verification result"}, response=Verification),
    Endpoint("GET", "/prescriptions/{id}/pdf", pdf, "The signed PDF", RX, Perm.RX_READ,
             responses={200: "PDF"}, content_type="application/pdf"),
    Endpoint("GET", "/prescriptions/{id}/qr.svg", qr,
             "The verification link as a QR code (SVG), as the PDF carries it", RX,
             Perm.RX_READ, responses={200: "QR code"}, content_type="image/svg+xml"),
    Endpoint("POST", "/prescriptions/{id}/acknowledge", acknowledge,
             "Patient consent and drawn signature", RX, Perm.RX_ACKNOWLEDGE, AcknowledgeIn,
             responses=RX_BODY, response=Prescription),
    Endpoint("POST", "/prescriptions/{id}/release", release, "Release an acknowledged prescription",
             RX, Perm.RX_RELEASE, responses=RX_BODY, response=Prescription),
]
