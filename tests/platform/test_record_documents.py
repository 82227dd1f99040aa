"""Documents in the patient's record: the type is read from the bytes, the bytes are sealed at
rest, a download is an attachment of the verified type (never a page), and each step is audited.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.record.sniff import JPEG, PDF, PNG, media_type

from .commerce_setup import call, tiny_pdf
from .helpers import Person, login_patient, make_staff, signature_png

PNG_BYTES = base64.b64decode(signature_png().split(",", 1)[1])
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TITLE = "Discharge summary, Apollo Jayanagar"


async def upload(client: TestClient, patient: Person, data: bytes, expect: int = 201,
                 **fields: Any) -> Any:
    body = {"kind": "discharge_summary", "title": TITLE, "dated": "2026-10-02",
            "content_base64": base64.b64encode(data).decode(), **fields}
    return await call(client, "POST", "/me/record/documents", patient, expect, json=body)


def test_the_type_is_read_from_the_bytes_at_both_ends() -> None:
    assert (media_type(tiny_pdf()), media_type(PNG_BYTES), media_type(JPEG_BYTES)) == (
        PDF, PNG, JPEG)
    html = b"<!doctype html><script>alert(document.cookie)</script>"
    assert media_type(html) is None
    assert media_type(b"%PDF-1.4\n<html><script>alert(1)</script>") is None  # no end: cut off
    assert media_type(PNG_BYTES[:-12]) is None  # IEND missing
    assert media_type(PNG_BYTES + b"<script>") is None  # something appended
    assert media_type(JPEG_BYTES[:-2]) is None
    assert media_type(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>') is None


async def test_upload_download_erase_sealed_and_audited(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    stored = await upload(client, patient, PNG_BYTES)
    assert stored["media_type"] == "image/png" and stored["size"] == len(PNG_BYTES)
    assert (stored["kind"], stored["title"], stored["dated"]) == (
        "discharge_summary", TITLE, "2026-10-02")

    # Back as an attachment of the verified type, never something a browser renders as a page.
    response = await client.get(f"/api/v1/me/record/documents/{stored['id']}",
                                headers=patient.headers)
    assert response.status == 200
    assert await response.read() == PNG_BYTES
    assert response.content_type == "image/png"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="document-{stored["id"]}.png"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]

    # At rest: neither the bytes nor the title in plain form.
    async with services.engine.connect() as conn:
        title, content = (await conn.execute(text(
            "SELECT title, content FROM record_documents"))).one()
    assert TITLE not in title and "Apollo" not in title
    assert b"IHDR" not in base64.b64decode(content)

    # Nobody else's: another patient is told it does not exist; staff have no record here.
    other = await login_patient(client, outbox, phone="9988776655")
    doctor = await make_staff(client, services, Role.PHYSICIAN)
    for method in ("GET", "DELETE"):
        await call(client, method, f"/me/record/documents/{stored['id']}", other, 404)
        await call(client, method, f"/me/record/documents/{stored['id']}", doctor, 403)

    response = await client.delete(f"/api/v1/me/record/documents/{stored['id']}",
                                   headers=patient.headers)
    assert response.status == 204
    await call(client, "GET", f"/me/record/documents/{stored['id']}", patient, 404)
    async with services.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM record_documents"))).scalar() == 0
        actions = (await conn.execute(text(
            "SELECT action, actor_id FROM audit_events WHERE entity_type = 'record_document' "
            "ORDER BY seq"))).all()
    assert [a for a, _ in actions] == ["record_document_uploaded", "record_document_downloaded",
                                       "record_document_deleted"]
    assert {uuid.UUID(str(actor)) for _, actor in actions} == {patient.user_id}


async def test_what_is_refused_names_the_field_and_stores_nothing(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    page = b"<html><body onload=alert(1)>report</body></html>"
    refused = await upload(client, patient, page, 422)
    assert refused["error"]["details"] == [
        {"field": "file", "message": "must be a PDF, JPEG or PNG file"}]
    cut = await upload(client, patient, tiny_pdf()[:40], 422)  # a PDF cut off in transfer
    assert cut["error"]["details"][0]["field"] == "file"
    big = b"%PDF-1.4\n" + b"0" * (360 * 1024) + b"\n%%EOF\n"
    too_big = await upload(client, patient, big, 413)
    assert too_big["error"]["details"] == [{"field": "file", "message": "too large"}]
    for fields, field in [({"content_base64": "not base64!"}, "content_base64"),
                          ({"dated": "2999-01-01"}, "dated"), ({"dated": "yesterday"}, "dated"),
                          ({"kind": "selfie"}, "kind"), ({"title": "x" * 121}, "title")]:
        body = await upload(client, patient, tiny_pdf(), 422, **fields)
        assert body["error"]["details"][0]["field"] == field, fields
    pharmacist = await make_staff(client, services, Role.PHARMACY)
    await upload(client, pharmacist, tiny_pdf(), 403)
    async with services.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM record_documents"))).scalar() == 0
    # A PDF and a JPEG are kept; an empty title becomes the kind's name.
    kept = await upload(client, patient, tiny_pdf(), title="", kind="lab_report")
    assert (kept["media_type"], kept["title"]) == ("application/pdf", "Lab report")
    assert (await upload(client, patient, JPEG_BYTES))["media_type"] == "image/jpeg"
