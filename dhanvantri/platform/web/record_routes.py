"""The patient's health record: ``/me/record`` (the timeline), its documents, its FHIR export.

Documents go back only as attachments of the type their bytes were found to be, with
``nosniff`` and a sandboxing CSP: an upload can never be opened as a page of this origin.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.errors import ValidationFailed
from ...http.permissions import Perm
from ..record import documents, fhir_export
from ..record.timeline import timeline
from .common import actor_for, services
from .consultation_routes import cipher
from .record_schemas import DocumentIn, DocumentOut, FhirBundle, Timeline, TimelineQuery

TAG = "record"
# A downloaded document is data, never a page: no script, no plugin, no frame of ours.
ATTACHMENT_CSP = "default-src 'none'; sandbox"


async def get_timeline(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, TimelineQuery)
    return ok(await timeline(services(request).uow(), cipher(request),
                             actor_for(request, principal), query.limit, query.offset))


async def upload_document(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, DocumentIn)
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed.field("content_base64", "not base64") from exc
    svc = services(request)
    return ok(await documents.upload(
        svc.uow(), actor_for(request, principal), kind=body.kind, title=body.title,
        dated=body.dated, data=data, max_bytes=svc.settings.record_upload_max_bytes), 201)


async def download_document(request: web.Request) -> web.Response:
    principal = caller(request)
    document = await documents.download(services(request).uow(),
                                        actor_for(request, principal), path_uuid(request))
    assert document.content is not None
    return web.Response(body=document.content, content_type=document.media_type, headers={
        "Content-Disposition": f'attachment; filename="{documents.file_name(document)}"',
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": ATTACHMENT_CSP,
        "Cache-Control": "no-store"})


async def delete_document(request: web.Request) -> web.Response:
    principal = caller(request)
    await documents.erase(services(request).uow(), actor_for(request, principal),
                          path_uuid(request))
    return web.Response(status=204)


async def my_fhir(request: web.Request) -> web.Response:
    principal = caller(request)
    return await _fhir(request, principal.user_id)


async def patient_fhir(request: web.Request) -> web.Response:
    caller(request)
    return await _fhir(request, path_uuid(request))


async def _fhir(request: web.Request, patient_id: uuid.UUID) -> web.Response:
    svc = services(request)
    settings = svc.settings
    # Where the bundle's attachments are fetched from (as the prescription PDF's QR code).
    base = settings.public_base_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    text = await fhir_export.export(svc.uow(), cipher(request),
                                    actor_for(request, caller(request)), patient_id, base)
    # FHIR's own media type when the client asks for it (a FHIR client's Accept); plain JSON,
    # as the OpenAPI document describes the body, otherwise.
    fhir = fhir_export.MEDIA_TYPE in request.headers.get("Accept", "")
    return web.Response(text=text, content_type=fhir_export.MEDIA_TYPE if fhir
                        else "application/json", headers={"Cache-Control": "no-store"})


FHIR_NOTE = ("Patient, Encounter, Condition, AllergyIntolerance, MedicationStatement, "
             "MedicationRequest (signed prescriptions), Practitioner and Provenance (the "
             "signature), Observation and DiagnosticReport (lab reports), DocumentReference "
             "(uploads); each resource validated with fhir.resources (R4B models). The ABHA "
             "number is the Patient identifier (system https://healthid.ndhm.gov.in). Sent as "
             "application/fhir+json when the Accept header asks for it.")

ENDPOINTS = [
    Endpoint("GET", "/me/record", get_timeline,
             "My health record: consultations, intakes, prescriptions, orders, lab reports "
             "and documents, newest first", TAG, Perm.RECORD_READ, query=TimelineQuery,
             responses={200: "one page of the timeline"}, response=Timeline,
             description="Only signed prescriptions appear. Patients only."),
    Endpoint("POST", "/me/record/documents", upload_document,
             "Add a PDF, JPEG or PNG to my record", TAG, Perm.RECORD_WRITE, DocumentIn,
             responses={201: "the stored document"}, response=DocumentOut,
             description="The type is read from the file's bytes (the name and claimed type "
                         "are ignored); anything else is refused (422, field file). Over "
                         "DHANVANTRI_RECORD_UPLOAD_MAX_BYTES: 413. Stored encrypted."),
    Endpoint("GET", "/me/record/documents/{id}", download_document,
             "One of my documents, as an attachment", TAG, Perm.RECORD_READ,
             responses={200: "the file (application/pdf, image/jpeg or image/png)"},
             content_type="application/octet-stream"),
    Endpoint("DELETE", "/me/record/documents/{id}", delete_document,
             "Erase one of my documents", TAG, Perm.RECORD_WRITE,
             responses={204: "erased (the audit trail keeps its digest)"}),
    Endpoint("GET", "/me/record/fhir", my_fhir, "My record as a FHIR R4 Bundle", TAG,
             Perm.RECORD_READ, responses={200: "a FHIR Bundle (collection)"},
             response=FhirBundle, description=FHIR_NOTE),
    Endpoint("GET", "/patients/{id}/record/fhir", patient_fhir,
             "A patient's record as a FHIR R4 Bundle (their physician)", TAG,
             Perm.RECORD_EXPORT, responses={200: "a FHIR Bundle (collection)"},
             response=FhirBundle,
             description="Physicians who reviewed or signed one of the patient's "
                         "prescriptions; others get 403 NOT_TREATING. " + FHIR_NOTE),
]
