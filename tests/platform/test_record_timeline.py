"""The record's timeline: every kind of entry of a full journey, newest first, paged without
gaps or repeats; only signed prescriptions; the patient's own only; each read audited."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import PIN, call, pharmacy
from .helpers import login_patient, make_staff
from .test_fhir_export import journey

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


async def test_the_timeline_pages_a_full_journey_newest_first(
        client: TestClient, services: Services, outbox: OutboxNotifier,
        clock: ManualClock) -> None:
    made = await journey(client, services, outbox, clock)
    clock.advance(minutes=1)
    admin = await make_staff(client, services, Role.ADMIN)
    _owner, shop = await pharmacy(client, services, admin, {"DOLO-650": 5})
    found = await call(client, "GET", "/medicines", params={"q": "dolo"})
    dolo = next(m for m in found["items"] if m["sku"] == "DOLO-650")
    order = await call(client, "POST", "/orders", made.patient, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road",
        "items": [{"medicine_id": dolo["id"], "quantity": 2}]})

    pages: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await call(client, "GET", "/me/record", made.patient,
                          params={"limit": 2, "offset": offset})
        pages.append(page)
        offset += 2
        if not page["has_more"]:
            break
    items = [item for page in pages for item in page["items"]]
    assert [(i["kind"], i["id"]) for i in items] == [
        ("order", order["id"]), ("document", made.document_id),
        ("lab_report", made.booking_id), ("prescription", str(made.prescription_id)),
        ("consultation", str(made.consultation_id)), ("intake", str(made.consultation_id))]
    assert [len(p["items"]) for p in pages] == [2, 2, 2] and pages[-1]["has_more"] is False
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)

    by_kind = {i["kind"]: i for i in items}
    assert by_kind["intake"]["title"] == "fever and body ache"
    assert by_kind["intake"]["detail"]["symptoms"] == ["Fever"]  # said absent: not listed
    assert by_kind["prescription"]["title"] == "Viral fever"
    assert by_kind["prescription"]["detail"]["medicines"] == ["Paracetamol", "Cetirizine"]
    assert by_kind["prescription"]["status"] == "signed"
    assert by_kind["order"]["detail"]["total"] == order["total"]
    results = {r["analyte"]: r["flag"] for r in by_kind["lab_report"]["detail"]["results"]}
    assert results == {"haemoglobin": "low", "total leucocyte count": "normal",
                       "platelet count": "high"}
    assert by_kind["document"]["detail"]["document_kind"] == "discharge_summary"
    # The consultation's review record is a draft until a physician signs it: not shown.
    assert str(made.draft_id) not in [i["id"] for i in items]

    # Nobody else's record: another patient sees an empty one; staff have none here.
    other = await login_patient(client, outbox, phone="9988776655")
    assert (await call(client, "GET", "/me/record", other))["items"] == []
    await call(client, "GET", "/me/record", made.doctor, 403)
    await call(client, "GET", "/me/record", made.patient, 422, params={"limit": 0})
    await call(client, "GET", "/me/record", made.patient, 422, params={"offset": 5000})

    async with services.engine.connect() as conn:
        viewed = (await conn.execute(text(
            "SELECT count(*) FROM audit_events WHERE action = 'record_viewed'"))).scalar()
    assert viewed == len(pages) + 1  # the other patient's empty page too
