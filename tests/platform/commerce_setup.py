"""Shared set-up for commerce tests: a released prescription, a stocked pharmacy, a lab."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from pydantic import BaseModel

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.commerce.catalog import seed_catalog
from dhanvantri.platform.commerce.lab_tests import seed_lab_catalog
from dhanvantri.platform.consent import CONSENT_SHA256
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.web import ENDPOINTS

from .helpers import DRAFT, SAFE, Person, make_staff, signature_png

API = "/api/v1"
PIN = "560001"

# A prescription that exercises every matching rule against the stock set up below.
SHOPPING = {**DRAFT, "medications": [
    {"name": "Dolo 650", "dose": "650 mg", "frequency": "TDS", "duration": "3 days"},
    {"name": "Zyrtec", "dose": "10 mg", "frequency": "OD", "duration": "5 days"},
    {"name": "Glycomet 1000", "dose": "1000 mg", "frequency": "BD", "duration": "30 days"},
    {"name": "Azee 500", "dose": "500 mg", "frequency": "OD", "duration": "3 days"},
    {"name": "Unobtainium", "dose": "5 mg", "frequency": "OD", "duration": "3 days"},
]}


# Each endpoint's documented success body, by method and path pattern.
DOCUMENTED = [(e.method, re.compile(re.sub(r"{\w+}", "[^/]+", e.path)), e.response)
              for e in ENDPOINTS if e.response is not None]


def documented(method: str, path: str) -> type[BaseModel] | None:
    """The response model the OpenAPI document gives a request's success body."""
    return next((model for verb, pattern, model in DOCUMENTED
                 if verb == method and pattern.fullmatch(path)), None)


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": f"test-{uuid.uuid4().hex}"}


async def call(client: TestClient, method: str, path: str, person: Person | None = None,
               expect: int = 200, headers: dict[str, str] | None = None, **kwargs: Any
               ) -> Any:
    """One API call asserting the status; returns the JSON body (or bytes for PDFs).

    A success body must match the model the OpenAPI document describes it with.
    """
    all_headers = {**(person.headers if person else {}), **(headers or {})}
    response = await client.request(method, API + path, headers=all_headers, **kwargs)
    assert response.status == expect, f"{method} {path}: {response.status} {await response.text()}"
    if response.content_type == "application/pdf":
        return await response.read()
    body = await response.json()
    if 200 <= response.status < 300 and (model := documented(method, path)) is not None:
        model.model_validate(body)
    return body


async def released(client: TestClient, services: Services, outbox: OutboxNotifier,
                   patient: Person, draft: dict[str, Any] | None = None,
                   doctor: Person | None = None) -> uuid.UUID:
    """Draft, approve, e-sign, acknowledge and release a prescription through the API (by
    ``doctor``, or a new physician)."""
    doctor = doctor or await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await create_from_draft(services.uow(), uuid.uuid4(), patient.user_id,
                                    draft or SHOPPING, SAFE, False)
    await call(client, "POST", f"/prescriptions/{rx_id}/approve", doctor)
    start = await call(client, "POST", f"/prescriptions/{rx_id}/sign", doctor, 202)
    await call(client, "POST", f"/prescriptions/{rx_id}/sign/complete", doctor,
               json={"session_id": start["session_id"], "otp": outbox.last_code(doctor.phone)})
    await call(client, "POST", f"/prescriptions/{rx_id}/acknowledge", patient,
               json={"consent": True, "consent_sha256": CONSENT_SHA256,
                     "signature_png": signature_png()})
    await call(client, "POST", f"/prescriptions/{rx_id}/release", patient)
    return rx_id


async def pharmacy(client: TestClient, services: Services, admin: Person,
                   stock: dict[str, int], name: str = "Jayanagar Medicals",
                   pins: tuple[str, ...] = (PIN,)) -> tuple[Person, str]:
    """A pharmacy user, its pharmacy (registered by the admin) and its stock."""
    await seed_catalog(services.uow())
    owner = await make_staff(client, services, Role.PHARMACY)
    shop = await call(client, "POST", "/pharmacies", admin, 201, json={
        "name": name, "user_id": str(owner.user_id), "pin_codes": list(pins)})
    await call(client, "PUT", f"/pharmacies/{shop['id']}/stock", owner, json={
        "items": [{"sku": sku, "quantity": qty} for sku, qty in stock.items()]})
    return owner, shop["id"]


async def lab(client: TestClient, services: Services, admin: Person) -> tuple[Person, str, str]:
    """A lab user, its lab and one home-collection slot tomorrow."""
    await seed_lab_catalog(services.uow())
    owner = await make_staff(client, services, Role.LAB)
    partner = await call(client, "POST", "/labs", admin, 201, json={
        "name": "Koramangala Diagnostics", "user_id": str(owner.user_id), "pin_codes": [PIN]})
    slot = await call(client, "POST", f"/labs/{partner['id']}/slots", owner, 201, json={
        "pin_code": PIN, "starts_at": (services.clock() + timedelta(days=1)).isoformat(),
        "capacity": 2})
    return owner, partner["id"], slot["id"]


async def pay_by_sandbox(client: TestClient, patient: Person, started: dict[str, Any]
                         ) -> dict[str, Any]:
    """Complete a gateway payment at the sandbox checkout and confirm its signature."""
    payment_id = started["payment"]["id"]
    paid = await call(client, "POST", f"/payments/{payment_id}/sandbox-checkout", patient)
    return await call(client, "POST", f"/payments/{payment_id}/confirm", patient, json=paid)


def tiny_pdf() -> bytes:
    """A minimal well-formed one-page PDF."""
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
