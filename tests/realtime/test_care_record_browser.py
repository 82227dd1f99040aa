"""My health record in the care area, in headless Chromium against the full server.

A signed prescription and a document added through the API are on the timeline. On a
phone-sized page the patient adds a file that claims to be a PDF but is a web page: it is
refused with a message and nothing is stored. A real PNG is added with a name and a kind and
appears at the top; it downloads as the same bytes; a photo over the size limit is made smaller
in the page and kept as a JPEG; the first is deleted after a confirmation. The
whole record downloads as a FHIR bundle. Screenshots at phone and desktop sizes.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.platform.commerce_setup import tiny_pdf
from tests.platform.helpers import signature_png
from tests.realtime.care_app import CareWorld, care_world, open_as_patient
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    PHONE_SIZE,
    accessible,
    both_sizes,
    launch,
    page_until,
    script_errors,
    shows,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
__all__ = ["care_world", "cheap_passwords"]

PNG = base64.b64decode(signature_png().split(",", 1)[1])
ENTRIES = "[...document.querySelectorAll('#record-timeline > li')].map(li => li.dataset.kind)"


def noise_png(width: int, height: int) -> bytes:
    """A PNG of random pixels: it does not compress, like a large phone photo."""
    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def documents(world: CareWorld) -> list[dict[str, Any]]:
    items = world.call("GET", "/me/record", world.patient, params={"limit": 100})["items"]
    return [i for i in items if i["kind"] == "document"]


def test_the_record_adds_refuses_downloads_and_erases_documents(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    rx_id = world.signed_prescription()
    world.call("POST", "/me/record/documents", world.patient, 201, json={
        "kind": "lab_report", "title": "Thyroid test, City Lab", "dated": "2026-09-14",
        "content_base64": base64.b64encode(tiny_pdf()).decode()})
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, "/care#record")
        errors = script_errors(page)
        page.wait_for_selector(f"#record-timeline li[data-kind='prescription'][data-id='{rx_id}']")
        assert page.evaluate(ENTRIES) == ["document", "prescription"]
        shows(page, "#record-timeline li[data-kind='document']", "Thyroid test, City Lab")
        shows(page, "#record-timeline li[data-kind='document']", "Dated 2026-09-14")
        assert page.get_attribute(f"li[data-id='{rx_id}'] a", "href") == f"#prescriptions/{rx_id}"
        assert page.get_attribute(".care-nav a[data-section='record']", "aria-current") == "page"
        accessible(page)
        both_sizes(page, shots, "record-timeline")

        # A web page named like a PDF is refused by what it is, and nothing is stored.
        page.click("#record-upload-open")
        page.set_input_files("#document-file", files=[{
            "name": "report.pdf", "mimeType": "application/pdf",
            "buffer": b"<html><script>alert(document.cookie)</script></html>"}])
        page.click("#document-add")
        shows(page, "#document-error", "must be a PDF, JPEG or PNG")
        assert page.get_attribute("#document-file", "aria-invalid") == "true"
        assert len(documents(world)) == 1
        both_sizes(page, shots, "record-upload-refused")

        # A photo of a report, named and kinded, lands at the top of the timeline.
        page.set_input_files("#document-file", files=[{
            "name": "xray.png", "mimeType": "image/png", "buffer": PNG}])
        page.select_option("#document-kind", "imaging")
        page.fill("#document-title", "Chest X-ray, Jayanagar")
        page.click("#document-add")
        shows(page, "#care-toast", "added to your record")
        page_until(page, f"{ENTRIES}[0] === 'document'"
                         " && document.querySelector('#record-timeline > li').textContent"
                         ".includes('Chest X-ray, Jayanagar')", what="the new document first")
        added = next(d for d in documents(world) if d["title"] == "Chest X-ray, Jayanagar")
        assert (added["detail"]["media_type"], added["detail"]["document_kind"]) == (
            "image/png", "imaging")
        assert page.input_value("#document-title") == ""  # the form is ready for the next one
        both_sizes(page, shots, "record-document-added")

        with page.expect_download() as info:
            page.click(f"#document-{added['id']}-download")
        assert Path(info.value.path()).read_bytes() == PNG
        assert info.value.suggested_filename == f"document-{added['id']}.png"

        # The whole record as FHIR.
        with page.expect_download() as info:
            page.click("#record-fhir")
        bundle = json.loads(Path(info.value.path()).read_text())
        kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert bundle["resourceType"] == "Bundle"
        assert {"Patient", "MedicationRequest", "DocumentReference", "Provenance"} <= kinds

        # A photo over the limit is made smaller in the page, and kept as a JPEG.
        big = noise_png(420, 420)
        assert len(big) > 360 * 1024
        page.set_input_files("#document-file", files=[{
            "name": "report-photo.png", "mimeType": "image/png", "buffer": big}])
        page.fill("#document-title", "Photo of a paper report")
        page.click("#document-add")
        page_until(page, "document.querySelector('#record-timeline > li')?.textContent"
                         ".includes('Photo of a paper report')", what="the shrunk photo")
        photo = next(d for d in documents(world) if d["title"] == "Photo of a paper report")
        assert photo["detail"]["media_type"] == "image/jpeg"
        assert photo["detail"]["size"] <= 360 * 1024

        # Deleting asks first, then the document is gone from the page and the server.
        asked: list[str] = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        page.click(f"#document-{added['id']}-delete")
        shows(page, "#care-toast", "deleted")
        page_until(page, f"!document.querySelector(\"li[data-id='{added['id']}']\")",
                   what="the deleted document to leave the timeline")
        assert asked and "Chest X-ray, Jayanagar" in asked[0]
        assert [d["title"] for d in documents(world)] == ["Photo of a paper report",
                                                          "Thyroid test, City Lab"]
        both_sizes(page, shots, "record-after-delete")
        assert errors == []
    finally:
        browser.close()
